//! CRI records: an OCI bundle's config.json annotations (containerd's and CRI-O's
//! io.kubernetes.* keys, the image name) and the kubelet's pod log directory names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::{oci, pods};

fuzz_target!(|data: &[u8]| {
    if let Ok(annotations) = oci::parse_bundle_annotations(data) {
        let _ = oci::annotated_image(&annotations);
    }
    let _ = pods::parse_pod_dir_name(&String::from_utf8_lossy(data));
});
