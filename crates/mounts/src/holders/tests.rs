use super::*;
use procs::fake::FakeProcess;

#[test]
fn maps_lines() {
    let l = b"7f00-7f01 r--s 00000000 07:00 12 /srv/web dir/data.bin";
    assert_eq!(
        map_line_device(l),
        Some((
            Device { major: 7, minor: 0 },
            PathBuf::from("/srv/web dir/data.bin")
        ))
    );
    let l = b"7f00-7f01 r-xp 00000000 fd:01 99                         /usr/lib/libc.so.6";
    assert_eq!(map_line_device(l).unwrap().0.major, 0xfd);
    assert_eq!(
        map_line_device(b"7f00-7f01 rw-p 00000000 00:00 0 [heap]"),
        None
    );
    assert_eq!(map_line_device(b"7f00-7f01 rw-p 00000000 00:00 0"), None);
    assert_eq!(map_line_device(b""), None);
}

#[test]
fn deleted_suffix() {
    assert_eq!(
        strip_deleted(Path::new("/m/f (deleted)")),
        Path::new("/m/f")
    );
    assert_eq!(strip_deleted(Path::new("/m/f")), Path::new("/m/f"));
}

#[test]
fn our_own_cwd_is_never_a_holder() {
    // This process uses "/" through cwd and root, yet it is excluded, as is pid 1.
    let table = MountTable::read().unwrap();
    let root = table.owning(Path::new("/")).unwrap().clone();
    let holders = find(&root, &table).unwrap();
    let me = i32::try_from(std::process::id()).unwrap();
    assert!(holders.iter().all(|h| h.pid() != me && h.pid() != 1));
}

#[test]
fn finds_a_child_in_a_directory() {
    // A child whose cwd is in /proc/sys is found by cwd; this needs no privileges and
    // no mount of our own.
    let table = MountTable::read().unwrap();
    let proc_mount = table.owning(Path::new("/proc/sys")).unwrap().clone();
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .current_dir("/proc/sys")
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let found = find(&proc_mount, &table).unwrap();
    let by_device = device_users(&ProcFs::system(), Device::of(&proc_mount)).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let h = found.iter().find(|h| h.pid() == pid).expect("child found");
    assert!(h.uses.contains(&Use::Cwd), "{h:?}");
    assert_eq!(h.comm(), "sleep");
    assert!(h.process.exe.is_some(), "captured with its executable");
    let h = by_device
        .holders
        .iter()
        .find(|h| h.pid() == pid)
        .expect("child found by device");
    assert!(h.uses.contains(&Use::Cwd), "{h:?}");
}

/// A fake /proc: this process in namespace 1, where 7:0 is mounted at /srv/web (mount 42);
/// namespace 2 has 7:0 at /mnt/x (mount 99); namespace 3 does not have it.
#[test]
fn device_users_in_a_fake_tree_span_namespaces() {
    let root = std::env::temp_dir().join(format!("mounts-holders-fake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("self/ns")).unwrap();
    std::os::unix::fs::symlink("mnt:[1]", root.join("self/ns/mnt")).unwrap();
    let ours = "1 0 254:0 / / rw - ext4 /dev/vda rw\n42 1 7:0 / /srv/web rw - gfs2 /dev/drbd0 rw\n";
    let theirs = "2 0 254:0 / / rw - ext4 /dev/vda rw\n99 2 7:0 / /mnt/x rw - gfs2 /dev/drbd0 rw\n\
                  100 99 0:40 / /mnt/x/t rw - tmpfs t rw\n101 100 0:41 / /mnt/x/a/t rw - tmpfs u rw\n\
                  102 2 0:42 / /mnt/xy rw - tmpfs v rw\n";
    let chrooted = "99 2 7:0 / /x rw - gfs2 /dev/drbd0 rw\n";
    let other = "3 0 254:0 / / rw - ext4 /dev/vda rw\n";
    let p = |pid, comm, ns, mountinfo: &str| {
        FakeProcess::new(pid, comm)
            .exe("/usr/bin/true")
            .mount_ns(ns)
            .file("mountinfo", mountinfo)
    };
    for fake in [
        p(10, "in-cwd", 1, ours).link("cwd", "/srv/web/sub"),
        p(20, "open-file", 1, ours).file("fdinfo/3", "pos:\t0\nmnt_id:\t42\n"),
        p(30, "mapped", 1, ours).file(
            "maps",
            "7f00-7f01 r--s 00000000 07:00 12 /srv/web/lib.so\n7f01-7f02 rw-p 00000000 00:00 0\n",
        ),
        p(35, "bystander", 1, ours)
            .link("cwd", "/srv")
            .file("fdinfo/1", "mnt_id:\t1\n"),
        p(40, "ns-cwd", 2, theirs).link("cwd", "/mnt/x/a"),
        p(41, "ns-idle", 2, theirs).link("cwd", "/"),
        p(50, "other-ns", 3, other).link("cwd", "/mnt/x"),
        p(60, "chrooted", 2, chrooted)
            .link("root", "/jail")
            .link("cwd", "/jail/x/y"),
        p(1, "init", 1, ours).link("cwd", "/srv/web"),
    ] {
        fake.write(&root).unwrap();
    }
    let users = device_users(&ProcFs::at(&root), Device { major: 7, minor: 0 }).unwrap();
    let holders: Vec<(i32, Vec<Use>)> = users
        .holders
        .iter()
        .map(|h| (h.pid(), h.uses.clone()))
        .collect();
    assert_eq!(
        holders,
        [
            (10, vec![Use::Cwd]),
            (20, vec![Use::OpenFile]),
            (30, vec![Use::Mmap]),
            (40, vec![Use::Cwd]),
            (60, vec![Use::Cwd]),
        ],
        "init, the bystander and the other namespace's process hold nothing"
    );
    assert_eq!(
        users.other_namespaces.len(),
        1,
        "{:?}",
        users.other_namespaces
    );
    let ns = &users.other_namespaces[0];
    assert_eq!(ns.inode, 2);
    assert_eq!(
        ns.mounts
            .iter()
            .map(|m| m.mount_point.clone())
            .collect::<Vec<_>>(),
        [PathBuf::from("/mnt/x")]
    );
    assert_eq!(
        ns.below
            .iter()
            .map(|m| m.mount_point.clone())
            .collect::<Vec<_>>(),
        [PathBuf::from("/mnt/x/a/t"), PathBuf::from("/mnt/x/t")],
        "what is stacked on the device there, deepest first"
    );
    let order: Vec<u32> = ns.unmount_order().map(|m| m.id).collect();
    assert_eq!(order, [101, 100, 99]);
    let pids: Vec<i32> = ns.processes.iter().map(Captured::pid).collect();
    assert_eq!(pids, [40, 41, 60], "every process of namespace 2");
    assert_eq!(
        namespaces_with(&ProcFs::at(&root), Device { major: 7, minor: 0 }).unwrap(),
        users.other_namespaces,
        "the cheap walk finds the same namespaces"
    );
    assert!(
        namespaces_with(&ProcFs::at(&root), Device { major: 7, minor: 1 })
            .unwrap()
            .is_empty()
    );
    let none = device_users(&ProcFs::at(&root), Device { major: 7, minor: 1 }).unwrap();
    assert_eq!(none, DeviceUsers::default());
    assert!(
        device_users(
            &ProcFs::at(root.join("missing")),
            Device { major: 7, minor: 0 }
        )
        .is_err(),
        "a /proc that cannot be read is an error, not nobody"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
