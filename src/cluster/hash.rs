//! venue -> shard: `shard = CRC-32(venue id as UTF-8) mod shards`.
//!
//! The mapping must never change for the life of a cluster (a venue's history lives in
//! its shard), so it is a fixed, documented function rather than Rust's `Hash` (whose
//! output may change between releases). CRC-32 is the ISO-HDLC / IEEE 802.3 one of
//! zlib, Python's `zlib.crc32` and HAProxy's `crc32` converter, so a proxy or a script
//! can compute the same shard: in HAProxy `path,field(4,/),crc32,mod(256)` for the
//! `/v1/venues/{venue}/...` routes. The owner of a shard changes; its number does not.

use crc::{CRC_32_ISO_HDLC, Crc};

const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// The shard (0..shards) a venue belongs to. `shards` is at least 1 (config checks it).
pub fn shard_of(venue_id: &str, shards: u32) -> u32 {
    CRC32.checksum(venue_id.as_bytes()) % shards.max(1)
}

/// How much `node_id` wants `shard` (rendezvous hashing): a node claims the free shards
/// it scores highest and releases those it scores lowest, so a restarted node tends to
/// get back the shards it had (whose sled copy is warm), and two nodes claiming at
/// once mostly want different shards.
pub fn preference(node_id: &str, shard: u32) -> u32 {
    let mut digest = CRC32.digest();
    digest.update(node_id.as_bytes());
    digest.update(b":");
    digest.update(&shard.to_be_bytes());
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_is_crc32_mod_shards_and_never_changes() {
        // zlib.crc32(b"bar") == 0x76ff8caa, zlib.crc32(b"demo") == 0xd642dfa0.
        assert_eq!(CRC32.checksum(b"bar"), 0x76ff_8caa);
        assert_eq!(shard_of("bar", 256), 0xaa);
        assert_eq!(shard_of("demo", 256), 0xa0);
        assert_eq!(shard_of("anything", 1), 0);
    }

    #[test]
    fn venues_spread_over_the_shards() {
        let mut hit = vec![0u32; 16];
        for i in 0..1_600 {
            hit[shard_of(&format!("venue-{i}"), 16) as usize] += 1;
        }
        assert!(hit.iter().all(|&n| (50..=150).contains(&n)), "{hit:?}");
    }
}
