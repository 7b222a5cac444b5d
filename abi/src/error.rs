//! The contract crate's error type: each variant names the file, the field or tensor, and the rule
//! that was broken, so the generator and the host can print it as it is.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or listed.
    #[error("cannot {action} {path}: {source}", path = path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `manifest.json` is not valid JSON or does not have the documented shape.
    #[error("invalid manifest {path}: {source}", path = path.display())]
    ManifestParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// The manifest parsed but a field breaks a rule of docs/bundle.md.
    #[error("invalid manifest {path}: field `{field}`: {reason}", path = path.display())]
    ManifestField {
        path: PathBuf,
        field: String,
        reason: String,
    },

    /// A file of the bundle is missing, modified, extra, or not a plain file.
    #[error("bundle {dir}: {file}: {problem}", dir = dir.display())]
    BundleFile {
        dir: PathBuf,
        file: String,
        problem: String,
    },

    /// An array file (`.npy`, `.npz`, `.safetensors`) or one of its tensors cannot be used.
    #[error("{path}{}: {reason}", tensor.as_ref().map(|t| format!(": tensor `{t}`")).unwrap_or_default(), path = path.display())]
    Array {
        path: PathBuf,
        tensor: Option<String>,
        reason: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
