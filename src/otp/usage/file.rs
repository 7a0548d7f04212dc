//! `usage.json`: the memory store's usage counters as written to `[store] state_dir`, one row
//! per tenant and day, written to a temporary file, synced, then renamed over the old one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{date_of, parse_date, DayUsage};
use crate::otp::identity::TenantTag;
use crate::state_dir::replace_file;

pub const FILE_NAME: &str = "usage.json";
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum UsageFileError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Not usage counters this version can read: the file was renamed to `set_aside`.
    #[error("{path}: unreadable ({why}); moved to {}", set_aside.display())]
    Unreadable {
        path: PathBuf,
        why: String,
        set_aside: PathBuf,
    },
}

#[derive(Serialize, Deserialize)]
struct Row {
    /// The tenant's tag as in store keys (`t` and eight hex digits).
    tenant: String,
    date: String,
    #[serde(flatten)]
    usage: DayUsage,
}

#[derive(Serialize, Deserialize)]
struct Contents {
    version: u32,
    days: Vec<Row>,
}

fn parse_tag(text: &str) -> Option<TenantTag> {
    let hex = text.strip_prefix('t').filter(|h| h.len() == 8)?;
    u32::from_str_radix(hex, 16).ok().map(TenantTag::from_raw)
}

fn decode(bytes: &[u8]) -> Result<Vec<(TenantTag, u32, DayUsage)>, String> {
    let contents: Contents = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if contents.version != VERSION {
        return Err(format!(
            "version {} (this version reads {VERSION})",
            contents.version
        ));
    }
    contents
        .days
        .into_iter()
        .map(|row| {
            let tenant = parse_tag(&row.tenant).ok_or(format!("tenant {:?}", row.tenant))?;
            let day = parse_date(&row.date).ok_or(format!("date {:?}", row.date))?;
            Ok((tenant, day, row.usage))
        })
        .collect()
}

/// The rows of `path` (none when it does not exist). A file that cannot be read as usage is
/// renamed aside rather than overwritten by the next write, and reported.
pub fn read(path: &Path) -> Result<Vec<(TenantTag, u32, DayUsage)>, UsageFileError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(UsageFileError::Io(path.to_owned(), e)),
    };
    decode(&bytes).map_err(|why| {
        let set_aside = path.with_extension(format!("json.unreadable-{}", uuid::Uuid::new_v4()));
        if let Err(e) = std::fs::rename(path, &set_aside) {
            return UsageFileError::Io(path.to_owned(), e);
        }
        UsageFileError::Unreadable {
            path: path.to_owned(),
            why,
            set_aside,
        }
    })
}

/// Replaces `path` by `rows` atomically.
pub fn write(path: &Path, rows: &[(TenantTag, u32, DayUsage)]) -> Result<(), UsageFileError> {
    let fail = |e: std::io::Error| UsageFileError::Io(path.to_owned(), e);
    let contents = Contents {
        version: VERSION,
        days: rows
            .iter()
            .map(|(tenant, day, usage)| Row {
                tenant: tenant.to_string(),
                date: date_of(*day),
                usage: *usage,
            })
            .collect(),
    };
    let bytes = serde_json::to_vec(&contents).map_err(|e| fail(std::io::Error::other(e)))?;
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(fail(std::io::Error::other("not a file path")));
    };
    replace_file(dir, name, &bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_usage_is_set_aside_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("otpgate-usage-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        assert!(
            read(&path).unwrap().is_empty(),
            "no file: nothing counted yet"
        );
        std::fs::write(&path, b"{\"version\": 1, \"days\": [{\"tenant\": \"x\"}]}").unwrap();
        match read(&path) {
            Err(UsageFileError::Unreadable { set_aside, .. }) => {
                assert!(set_aside.exists());
                assert!(!path.exists());
            }
            other => panic!("{other:?}"),
        }
        let rows = vec![(
            TenantTag::of("a"),
            20_000,
            DayUsage {
                created: 4,
                ..DayUsage::default()
            },
        )];
        write(&path, &rows).unwrap();
        assert_eq!(read(&path).unwrap(), rows);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
