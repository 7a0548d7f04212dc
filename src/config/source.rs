//! Where a running configuration came from, kept so that it can be read again: the file and
//! the `OTPGATE_*` environment of the process's start (a reload never sees variables set
//! later), with the tables before and after the overrides (to tell what changed).

use std::path::{Path, PathBuf};

use super::load::{apply_env_overrides, check_not_demo_by_accident, from_table, parse_table};
use super::{Config, ConfigError};

/// The file and the environment overrides captured at start.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    path: PathBuf,
    env: Vec<(String, String)>,
}

/// One reading of a [`ConfigSource`].
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The file's own table, before the environment overrides.
    pub file: toml::Table,
    /// The table the configuration was built from (overrides applied).
    pub effective: toml::Table,
}

impl ConfigSource {
    /// `path`, with the `OTPGATE_*` variables of `env` (the process's environment at start).
    pub fn new(path: impl Into<PathBuf>, env: impl IntoIterator<Item = (String, String)>) -> Self {
        let env = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("OTPGATE_") && k.contains("__"))
            .collect();
        Self {
            path: path.into(),
            env,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The overrides, as `OTPGATE_SECTION__KEY` names (their values are not kept apart from
    /// this source: they may be secrets).
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.env.iter().map(|(k, _)| k.as_str())
    }

    /// Reads, overrides, validates exactly as [`super::load_file`] does (the same errors).
    pub fn read(&self) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(&self.path).map_err(|source| ConfigError::Read {
            path: self.path.display().to_string(),
            source,
        })?;
        let file = parse_table(&text)?;
        let mut effective = file.clone();
        apply_env_overrides(&mut effective, self.env.iter().cloned())?;
        let config = from_table(effective.clone())?;
        check_not_demo_by_accident(&config)?;
        Ok(Loaded {
            config,
            file,
            effective,
        })
    }
}
