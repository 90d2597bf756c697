//! The user's local copy of the Hugging Face repository `Qwen/Qwen-Image-Layered`: config
//! files and safetensors shards, with errors that say which file is missing or wrong.
//!
//! Shards are read into memory one at a time (`candle_core::safetensors::load`) rather than
//! memory-mapped: mapping needs `unsafe`, which this crate forbids, and each part is dropped
//! as soon as its stage is done (text encoder before the transformer, and so on).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

/// The parts the layered pipeline needs, each a folder of the repository.
pub const PARTS: [&str; 5] = [
    "transformer",
    "vae",
    "text_encoder",
    "tokenizer",
    "scheduler",
];

/// What is wrong with a model folder.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The folder, or a file in it, does not exist.
    #[error(
        "{0} is missing; the model folder must be a local copy of the Hugging Face repository \
         Qwen/Qwen-Image-Layered"
    )]
    Missing(PathBuf),
    /// A config file is not the JSON we expect.
    #[error("{path}: {message}")]
    BadConfig { path: PathBuf, message: String },
    /// A weights file cannot be read or does not fit the config.
    #[error("{path}: {message}")]
    BadWeights { path: PathBuf, message: String },
}

/// A model folder that has all the parts.
#[derive(Clone, Debug)]
pub struct ModelFolder {
    root: PathBuf,
}

impl ModelFolder {
    /// Checks that `root` has every part's folder before anything is loaded, so a wrong path
    /// fails at once rather than after minutes of loading.
    pub fn open(root: &Path) -> Result<Self, WeightsError> {
        if !root.is_dir() {
            return Err(WeightsError::Missing(root.to_path_buf()));
        }
        for part in PARTS {
            let dir = root.join(part);
            if !dir.is_dir() {
                return Err(WeightsError::Missing(dir));
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The model folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one part, e.g. `transformer`.
    pub fn part(&self, part: &str) -> PathBuf {
        self.root.join(part)
    }

    /// Reads `<part>/<file>` as JSON into `T`.
    pub fn config<T: serde::de::DeserializeOwned>(
        &self,
        part: &str,
        file: &str,
    ) -> Result<T, WeightsError> {
        let path = self.part(part).join(file);
        let bytes = std::fs::read(&path).map_err(|_| WeightsError::Missing(path.clone()))?;
        serde_json::from_slice(&bytes).map_err(|err| WeightsError::BadConfig {
            path,
            message: err.to_string(),
        })
    }

    /// The safetensors files of a part; see [`shards_in`].
    pub fn shards(&self, part: &str) -> Result<Vec<PathBuf>, WeightsError> {
        shards_in(&self.part(part))
    }

    /// All tensors of a part, converted to `dtype` on `device`, as a `VarBuilder`.
    pub fn var_builder(
        &self,
        part: &str,
        dtype: DType,
        device: &Device,
    ) -> Result<VarBuilder<'static>, WeightsError> {
        let tensors = load_tensors(&self.shards(part)?, dtype, device, |_| true)?;
        Ok(VarBuilder::from_tensors(tensors, dtype, device))
    }
}

/// The safetensors files in `dir`, in name order. When `dir` has a
/// `*.safetensors.index.json`, every shard it names must be present.
pub fn shards_in(dir: &Path) -> Result<Vec<PathBuf>, WeightsError> {
    let entries = std::fs::read_dir(dir).map_err(|_| WeightsError::Missing(dir.to_path_buf()))?;
    let mut shards = Vec::new();
    let mut indexes = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        match name {
            Some(n) if n.ends_with(".safetensors.index.json") => indexes.push(path),
            Some(n) if n.ends_with(".safetensors") => shards.push(path),
            _ => {}
        }
    }
    shards.sort();
    for index in indexes {
        for named in index_shards(&index)? {
            let expected = dir.join(&named);
            if !shards.contains(&expected) {
                return Err(WeightsError::Missing(expected));
            }
        }
    }
    if shards.is_empty() {
        return Err(WeightsError::Missing(dir.join("*.safetensors")));
    }
    Ok(shards)
}

/// The tensors of `shards` whose names `keep` accepts, each converted to `dtype` on the CPU
/// and then moved to `device` (so a bf16 GPU run never holds f32 copies on the device), one
/// shard in memory at a time.
pub fn load_tensors(
    shards: &[PathBuf],
    dtype: DType,
    device: &Device,
    keep: impl Fn(&str) -> bool,
) -> Result<HashMap<String, Tensor>, WeightsError> {
    let mut tensors = HashMap::new();
    for shard in shards {
        let bad = |message: String| WeightsError::BadWeights {
            path: shard.clone(),
            message,
        };
        let loaded = candle_core::safetensors::load(shard, &Device::Cpu)
            .map_err(|err| bad(err.to_string()))?;
        for (name, tensor) in loaded.into_iter().filter(|(name, _)| keep(name)) {
            let tensor = tensor
                .to_dtype(dtype)
                .and_then(|t| t.to_device(device))
                .map_err(|err| bad(format!("{name}: {err}")))?;
            tensors.insert(name, tensor);
        }
    }
    Ok(tensors)
}

/// The shard file names listed in a `*.safetensors.index.json` (its `weight_map` values).
fn index_shards(index: &Path) -> Result<Vec<String>, WeightsError> {
    #[derive(serde::Deserialize)]
    struct Index {
        weight_map: HashMap<String, String>,
    }
    let bytes = std::fs::read(index).map_err(|_| WeightsError::Missing(index.to_path_buf()))?;
    let parsed: Index = serde_json::from_slice(&bytes).map_err(|err| WeightsError::BadConfig {
        path: index.to_path_buf(),
        message: err.to_string(),
    })?;
    let mut names: Vec<String> = parsed.weight_map.into_values().collect();
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for part in PARTS {
            std::fs::create_dir(dir.path().join(part)).unwrap();
        }
        dir
    }

    #[test]
    fn a_missing_part_or_shard_is_named() {
        let dir = folder();
        std::fs::remove_dir(dir.path().join("vae")).unwrap();
        let err = ModelFolder::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("vae") && err.contains("Qwen/Qwen-Image-Layered"),
            "{err}"
        );

        let dir = folder();
        let model = ModelFolder::open(dir.path()).unwrap();
        let index =
            r#"{"metadata": {}, "weight_map": {"a": "m-1.safetensors", "b": "m-2.safetensors"}}"#;
        let part = dir.path().join("transformer");
        std::fs::write(part.join("m.safetensors.index.json"), index).unwrap();
        let tensors: HashMap<String, Tensor> = [(
            "a".to_string(),
            Tensor::ones((2, 2), DType::F32, &Device::Cpu).unwrap(),
        )]
        .into();
        candle_core::safetensors::save(&tensors, part.join("m-1.safetensors")).unwrap();
        let err = model.shards("transformer").unwrap_err().to_string();
        assert!(err.contains("m-2.safetensors"), "{err}");
        std::fs::copy(part.join("m-1.safetensors"), part.join("m-2.safetensors")).unwrap();
        assert_eq!(model.shards("transformer").unwrap().len(), 2);
        let vb = model
            .var_builder("transformer", DType::F32, &Device::Cpu)
            .unwrap();
        assert!(vb.contains_tensor("a"));
    }

    #[test]
    fn a_bad_config_names_the_file_and_the_problem() {
        let dir = folder();
        let model = ModelFolder::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("vae/config.json"), "{ not json").unwrap();
        let err = model
            .config::<serde_json::Value>("vae", "config.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("vae/config.json") && err.contains("key"),
            "{err}"
        );
        let err = model
            .config::<serde_json::Value>("scheduler", "scheduler_config.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("scheduler_config.json is missing"), "{err}");
    }
}
