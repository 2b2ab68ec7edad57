//! One NETLINK_ROUTE datagram of a link or address dump: netlink headers, RTM_NEWLINK and
//! RTM_NEWADDR messages with their attributes, NLMSG_DONE / NLMSG_ERROR. Input: the sequence
//! number the reader expects (4 bytes), then the datagram.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::net;

fuzz_target!(|data: &[u8]| {
    let Some((seq, datagram)) = data.split_first_chunk::<4>() else {
        return;
    };
    let _ = net::parse_dump_datagram(datagram, u32::from_ne_bytes(*seq));
});
