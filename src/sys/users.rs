//! User names: the passwd database (NSS, getpwuid_r(3)) of the host nsview runs on.

/// The name of `uid`, or None when the database has no entry for it.
pub fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}
