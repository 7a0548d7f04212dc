//! A node's state directory (`[store] state_dir`): what the memory store keeps across restarts
//! (stopped SMSCs, provisioned tenants, usage counters), each file replaced atomically, and how
//! long a change lasts depending on where it is kept.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// How long a change lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Persistence {
    /// In Redis: every node, across restarts.
    Cluster,
    /// In `[store] state_dir`: this node, across restarts.
    Node,
    /// In memory: until this node restarts.
    UntilRestart,
}

/// Replaces `dir/name` by `bytes` so that a crash leaves the old file or the new one, never a
/// part: written to `name.tmp`, synced, renamed over it, then the directory synced so that
/// the rename itself lasts. Creates `dir` when missing.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_bytes_and_no_temporary_is_left() {
        let dir = std::env::temp_dir().join(format!("otpgate-state-{}", uuid::Uuid::new_v4()));
        replace_file(&dir, "x.json", b"old").unwrap();
        replace_file(&dir, "x.json", b"new").unwrap();
        assert_eq!(std::fs::read(dir.join("x.json")).unwrap(), b"new");
        assert!(!dir.join("x.json.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
