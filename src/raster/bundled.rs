//! GDAL and PROJ as the Python wheel carries them: private copies whose compiled-in data folder
//! (`/usr/share/proj`) a machine without the apt packages lacks. The wheel puts `proj.db` in
//! `share/proj` beside the folder of the binary or library that runs; where that file exists,
//! PROJ is told to look there, and GDAL not to load the system's driver plugins (they link the
//! system libgdal, which would bring a second GDAL into our namespace). Outside the wheel the
//! folder does not exist and nothing changes.
//!
//! The release wheel's libcurl and OpenSSL are static, built to look for certificates in
//! `/usr/local/ssl`, which no distribution fills: HTTPS reads (/vsicurl/, /vsis3/) would fail
//! their certificate check. Inside the wheel, GDAL is given the system's CA bundle, unless the
//! user named one (CURL_CA_BUNDLE or SSL_CERT_FILE, which GDAL and OpenSSL read themselves).

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Where the wheel puts PROJ's data, from the folder of the running object.
fn bundled_proj_dir(object_dir: &Path) -> Option<PathBuf> {
    let dir = object_dir.parent()?.join("share").join("proj");
    dir.join("proj.db").is_file().then_some(dir)
}

/// The CA bundles of the distributions, where each keeps it.
const CA_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",   // RHEL, Rocky, Alma, Fedora, Amazon Linux
    "/etc/ssl/ca-bundle.pem",             // openSUSE, SLES
    "/etc/ssl/cert.pem",                  // Alpine, macOS
];

/// The CA bundle GDAL's libcurl should be given: None when the user named one or none exists.
fn ca_bundle(named: impl Fn(&str) -> bool, exists: impl Fn(&Path) -> bool) -> Option<&'static str> {
    if named("CURL_CA_BUNDLE") || named("SSL_CERT_FILE") {
        return None;
    }
    CA_BUNDLES.into_iter().find(|path| exists(Path::new(path)))
}

/// Point GDAL's PROJ at the wheel's data when `object` (the running binary or library) is
/// inside the wheel. Call it before the first GDAL call: GDAL reads the plugin setting when it
/// registers its drivers.
pub fn use_bundled_data(object: &Path) {
    let Some(dir) = object.parent().and_then(bundled_proj_dir) else { return };
    let Ok(dir) = CString::new(dir.as_os_str().as_encoded_bytes()) else { return };
    let paths = [dir.as_ptr(), std::ptr::null()];
    // SAFETY: a NULL-terminated list of C strings that outlive the calls, which copy them.
    unsafe {
        gdal_sys::OSRSetPROJSearchPaths(paths.as_ptr());
        gdal_sys::CPLSetConfigOption(c"GDAL_DRIVER_PATH".as_ptr(), c"disable".as_ptr());
    }
    let named = |option: &str| std::env::var_os(option).is_some();
    if let Some(bundle) = ca_bundle(named, Path::is_file).and_then(|path| CString::new(path).ok()) {
        // SAFETY: two C strings that outlive the call, which copies them.
        unsafe { gdal_sys::CPLSetConfigOption(c"CURL_CA_BUNDLE".as_ptr(), bundle.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wheel_layout_is_found_and_any_other_is_ignored() {
        let root = std::env::temp_dir().join(format!("s12-bundled-{}", std::process::id()));
        let libs = root.join("sen12lite.libs");
        std::fs::create_dir_all(&libs).unwrap();
        assert_eq!(bundled_proj_dir(&libs), None);
        std::fs::create_dir_all(root.join("share/proj")).unwrap();
        std::fs::write(root.join("share/proj/proj.db"), b"").unwrap();
        assert_eq!(bundled_proj_dir(&libs), Some(root.join("share/proj")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_first_ca_bundle_on_disk_is_taken_unless_the_user_named_one() {
        let rhel = |path: &Path| path == Path::new("/etc/pki/tls/certs/ca-bundle.crt");
        assert_eq!(ca_bundle(|_| false, rhel), Some("/etc/pki/tls/certs/ca-bundle.crt"));
        assert_eq!(ca_bundle(|_| false, |_| true), Some("/etc/ssl/certs/ca-certificates.crt"));
        assert_eq!(ca_bundle(|option| option == "SSL_CERT_FILE", |_| true), None);
        assert_eq!(ca_bundle(|option| option == "CURL_CA_BUNDLE", |_| true), None);
        assert_eq!(ca_bundle(|_| false, |_| false), None);
    }
}
