//! The generator's error type: every variant says what went wrong and where (file, layer, field,
//! value, limit), so the CLI can print one clear message and exit non-zero.

use std::path::PathBuf;

/// Everything that can go wrong between reading a description and writing a bundle.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Yaml { path: PathBuf, message: String },
    #[error("{path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{path}: layer `{layer}`: {field}: {message}")]
    Layer {
        path: PathBuf,
        layer: String,
        field: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("{path}: tensor `{tensor}` not found (layer `{layer}`, field `{field}`); available tensors: {available}")]
    MissingTensor {
        path: PathBuf,
        layer: String,
        field: String,
        tensor: String,
        available: String,
    },
    #[error("{path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("{0}")]
    Plan(String),
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Output(#[from] bramble_host::fsutil::OutputError),
    #[error("template `{template}`: {message}")]
    Template { template: String, message: String },
    /// `generate --geometry-of`: the network does not fit the bundle's geometry (or the bundle
    /// cannot serve as one).
    #[error("--geometry-of {bundle}: {message}", bundle = bundle.display())]
    GeometryOf { bundle: PathBuf, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a path to an I/O error.
pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
