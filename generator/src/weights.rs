//! The generator's side of weights and input files: [`bramble_abi::array`] reads them (one reader
//! for the generator and the host, rules in its module doc); this maps its errors into the
//! generator's, so each still names the description, the layer and the field that asked.

use crate::error::Error;
use bramble_abi::array::ArrayFile;
use bramble_abi::error::Error as AbiError;
use std::path::Path;

pub use bramble_abi::array::{read_inputs, Array};

/// Open the weights file `path` named by the `weights` key of description `desc`. Only its list
/// of tensors is read here; [`ArrayFile::get`] reads one tensor when a layer asks for it.
pub fn open(desc: &Path, path: &Path) -> crate::Result<ArrayFile> {
    ArrayFile::open(path).map_err(|e| match e {
        // The OS error goes into the message, not the chain, so it is printed once.
        AbiError::Io { source, .. } => Error::Invalid {
            path: desc.into(),
            field: "weights".into(),
            message: format!("{}: cannot read: {source}", path.display()),
        },
        other => Error::Weights {
            path: path.into(),
            message: reason(other),
        },
    })
}

/// The error of a calibration (input) file, as the generator's [`Error::Input`] or [`Error::Io`].
pub fn input_error(path: &Path, e: AbiError) -> Error {
    match e {
        AbiError::Io { source, .. } => Error::Io {
            path: path.into(),
            source,
        },
        other => Error::Input {
            path: path.into(),
            message: reason(other),
        },
    }
}

/// The message of an array error without its leading path (the generator's variant adds it).
fn reason(e: AbiError) -> String {
    match e {
        AbiError::Array {
            tensor: Some(t),
            reason,
            ..
        } => format!("tensor `{t}`: {reason}"),
        AbiError::Array { reason, .. } => reason,
        other => other.to_string(),
    }
}
