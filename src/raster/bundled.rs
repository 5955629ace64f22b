//! GDAL and PROJ as the Python wheel carries them: private copies whose compiled-in data folder
//! (`/usr/share/proj`) a machine without the apt packages lacks. The wheel puts `proj.db` in
//! `share/proj` beside the folder of the binary or library that runs; where that file exists,
//! PROJ is told to look there, and GDAL not to load the system's driver plugins (they link the
//! system libgdal, which would bring a second GDAL into our namespace). Outside the wheel the
//! folder does not exist and nothing changes.

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Where the wheel puts PROJ's data, from the folder of the running object.
fn bundled_proj_dir(object_dir: &Path) -> Option<PathBuf> {
    let dir = object_dir.parent()?.join("share").join("proj");
    dir.join("proj.db").is_file().then_some(dir)
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
}
