//! How operators install otpgate: the Debian package (built with cargo-deb from the release
//! binary, unpacked into a scratch directory, never installed), its systemd unit, and the
//! container recipe (linted; built only where a registry serves the base images).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::tools;

const CARGO_DEB: &str = "OTPGATE_CARGO_DEB";
const CARGO_DEB_SET_BY: &str = ".ci/install.d/70-cargo-deb.sh";
const HADOLINT: &str = "OTPGATE_HADOLINT";
const HADOLINT_SET_BY: &str = ".ci/install.d/71-hadolint.sh";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory under the system's temporary one, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("otpgate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `command`, failing the test with its output when it fails or cannot start.
fn run(what: &str, command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The release binary cargo-deb packages (`--no-build`): the install script builds it, so
/// that the test does not run a second cargo build inside the running one.
fn release_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let target = if target.is_relative() {
        root().join(target)
    } else {
        target
    };
    let binary = target.join("release/otpgate");
    assert!(
        binary.is_file(),
        "{} is missing: build it first with `cargo build --release -p otpgate --bin otpgate` \
         ({CARGO_DEB_SET_BY} does)",
        binary.display()
    );
    binary
}

/// Builds the package, unpacks its files (`dpkg-deb -x`) and control area (`dpkg-deb -e`)
/// into a scratch root and checks what an operator gets: the binary, the configuration as a
/// conffile readable by the service's group only and accepted by `check-config`, the hardened
/// unit (verified by `systemd-analyze` when the machine has it), and the maintainer scripts
/// that create and remove the system user.
#[test]
#[ignore = "needs cargo-deb (OTPGATE_CARGO_DEB, set by .ci/install.d/70-cargo-deb.sh)"]
fn debian_package_installs_a_hardened_service() {
    let cargo_deb = tools::required_path(CARGO_DEB, CARGO_DEB_SET_BY);
    release_binary();
    let scratch = Scratch::new("deb");
    let deb = scratch.0.join("otpgate.deb");
    // --fast: xz at its default level takes most of a minute over the binary; the contents are
    // what is checked here, not the size.
    run(
        "cargo deb",
        Command::new(&cargo_deb)
            .current_dir(root())
            .args(["-p", "otpgate", "--no-build", "--fast", "--output"])
            .arg(&deb),
    );

    let fs = scratch.0.join("root");
    let control = scratch.0.join("DEBIAN");
    run(
        "dpkg-deb -x",
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&fs),
    );
    run(
        "dpkg-deb -e",
        Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control),
    );

    // The files and their modes.
    let binary = fs.join("usr/bin/otpgate");
    assert_eq!(mode(&binary), 0o755, "usr/bin/otpgate");
    let config = fs.join("etc/otpgate/otpgate.toml");
    assert_eq!(mode(&config), 0o640, "the configuration holds secrets");
    assert_eq!(
        read(&config),
        read(&root().join("packaging/otpgate.toml")),
        "the packaged configuration is packaging/otpgate.toml"
    );
    assert!(fs.join("usr/share/doc/otpgate/packaging.md").is_file());
    let conffiles = read(&control.join("conffiles"));
    assert!(
        conffiles.lines().any(|l| l == "/etc/otpgate/otpgate.toml"),
        "the configuration is a conffile (kept on upgrade, asked about when changed): {conffiles}"
    );
    let fields = read(&control.join("control"));
    assert!(fields.contains("Package: otpgate\n"), "{fields}");
    assert!(fields.contains("adduser"), "depends on adduser: {fields}");

    // The packaged binary accepts the packaged configuration as it is.
    let out = run(
        "check-config of the packaged configuration",
        Command::new(&binary)
            .arg("check-config")
            .arg(&config)
            .env_remove("OTPGATE_CONFIG"),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK"));

    // The unit.
    let unit_path = ["lib/systemd/system", "usr/lib/systemd/system"]
        .iter()
        .map(|d| fs.join(d).join("otpgate.service"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no otpgate.service in the package"));
    let unit = read(&unit_path);
    assert_eq!(unit, read(&root().join("packaging/otpgate.service")));
    for line in [
        "User=otpgate",
        "ExecStart=/usr/bin/otpgate serve --config /etc/otpgate/otpgate.toml",
        "StateDirectory=otpgate",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "Restart=on-failure",
        "LimitNOFILE=65536",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=30",
        "Environment=OTPGATE_LOG_FORMAT=json",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks `{line}`");
    }
    // SIGHUP re-reads the HTTPS certificate (and, without TLS, is ignored, never fatal).
    assert!(
        unit.lines()
            .any(|l| l == "ExecReload=/bin/kill -HUP $MAINPID"),
        "the unit lacks its reload command"
    );
    verify_unit(&unit, &binary, &scratch.0);

    // The maintainer scripts: the user on configure, removed with the state on purge.
    let postinst = read(&control.join("postinst"));
    assert!(
        postinst.contains("adduser --system --group"),
        "postinst creates the system user: {postinst}"
    );
    assert!(postinst.contains("chown root:otpgate /etc/otpgate/otpgate.toml"));
    assert!(!postinst.contains("#DEBHELPER#"), "the token is replaced");
    let postrm = read(&control.join("postrm"));
    assert!(postrm.contains("\"purge\""), "{postrm}");
    assert!(postrm.contains("deluser --system"), "{postrm}");
    assert!(postrm.contains("rm -rf /var/lib/otpgate"), "{postrm}");
    for script in ["postinst", "postrm"] {
        run(
            &format!("sh -n {script}"),
            Command::new("sh").arg("-n").arg(control.join(script)),
        );
    }
}

/// `systemd-analyze verify` and `security` on a copy of the unit whose ExecStart is the
/// unpacked binary (verify checks that the command exists). Machines without systemd skip this
/// part only.
fn verify_unit(unit: &str, binary: &Path, scratch: &Path) {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze not found: the unit is not verified");
        return;
    }
    let copy = scratch.join("otpgate.service");
    std::fs::write(
        &copy,
        unit.replace(
            "ExecStart=/usr/bin/otpgate",
            &format!("ExecStart={}", binary.display()),
        ),
    )
    .unwrap();
    let out = run(
        "systemd-analyze verify",
        Command::new("systemd-analyze").arg("verify").arg(&copy),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("otpgate.service"),
        "systemd-analyze verify warns about the unit:\n{said}"
    );
    // systemd's own exposure score (0 = locked down, 10 = unprotected): 1.6 when written;
    // above 2.5 some hardening went missing.
    run(
        "systemd-analyze security",
        Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=25"])
            .arg(&copy),
    );
}

/// hadolint accepts the container recipe with its default rules.
#[test]
#[ignore = "needs hadolint (OTPGATE_HADOLINT, set by .ci/install.d/71-hadolint.sh)"]
fn containerfile_passes_hadolint() {
    let hadolint = tools::required_path(HADOLINT, HADOLINT_SET_BY);
    run(
        "hadolint Containerfile",
        Command::new(hadolint)
            .current_dir(root())
            .args(["--no-color", "Containerfile"]),
    );
}

/// The recipe builds, and the image answers /healthz as its HEALTHCHECK asks: needs podman
/// or docker (OTPGATE_CONTAINER_BUILDER) and a registry serving the rust and debian images.
#[test]
#[ignore = "needs a container registry for the base image"]
fn container_image_builds_and_is_healthy() {
    let builder = tools::required(
        "OTPGATE_CONTAINER_BUILDER",
        "`OTPGATE_CONTAINER_BUILDER=podman cargo test` on a machine that reaches a registry",
    );
    let tag = format!("otpgate-test:{}", std::process::id());
    run(
        "image build",
        Command::new(&builder).current_dir(root()).args([
            "build",
            "-f",
            "Containerfile",
            "-t",
            &tag,
            ".",
        ]),
    );
    let name = format!("otpgate-test-{}", std::process::id());
    // The packaged configuration as it is: its placeholder SMSC never binds, which /healthz
    // (the process is up) does not depend on.
    run(
        "container start",
        Command::new(&builder).args(["run", "-d", "--name", &name, &tag]),
    );
    let mut healthy = false;
    for _ in 0..30 {
        let out = Command::new(&builder)
            .args(["exec", &name, "bash", "-c"])
            .arg(
                "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 \
                 && head -n 1 <&3 | grep -q ' 200 '",
            )
            .output()
            .unwrap();
        if out.status.success() {
            healthy = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let _ = Command::new(&builder).args(["rm", "-f", &name]).output();
    let _ = Command::new(&builder).args(["rmi", "-f", &tag]).output();
    assert!(healthy, "/healthz never answered 200 in the container");
}
