//! Every command takes either a description (compressed on the fly) or a compressed model file.

use crate::compress::{compress, Note};
use crate::desc::Network;
use crate::error::Result;
use crate::model::Model;
use std::path::Path;

/// True when `path` names a YAML description rather than a model file.
pub fn is_description(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yaml") | Some("yml")
    )
}

/// Load a model from a description (`.yaml`/`.yml`, compressed now) or a model file.
pub fn load(path: &Path) -> Result<(Model, Vec<Note>)> {
    let (model, notes, _) = load_with_inputs(path)?;
    Ok((model, notes))
}

/// [`load`], plus the files it read (the description and the files it names), so an output can
/// be checked against every one of them.
pub fn load_with_inputs(path: &Path) -> Result<(Model, Vec<Note>, Vec<std::path::PathBuf>)> {
    if is_description(path) {
        let net = Network::load(path)?;
        let mut inputs = vec![path.to_path_buf()];
        inputs.extend(net.files.iter().cloned());
        let (model, notes) = compress(&net)?;
        Ok((model, notes, inputs))
    } else {
        Ok((Model::load(path)?, Vec::new(), vec![path.to_path_buf()]))
    }
}
