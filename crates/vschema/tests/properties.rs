//! Property tests: key-range containment and intersection laws, shard
//! partitions, and reversible vindexes round-tripping every `u64`.

use proptest::prelude::*;
use vschema::key_range::{generate_shard_ranges, shards_exact_key_range, shards_in_key_range};
use vschema::{create_vindex, Destination, KeyRange, Value};

/// A key bound with no trailing zero bytes (the normalized form).
fn bound() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..4).prop_map(|mut b| {
        while b.last() == Some(&0) {
            b.pop();
        }
        b
    })
}

/// A valid, non-empty key range.
fn key_range() -> impl Strategy<Value = KeyRange> {
    (bound(), bound()).prop_filter_map("start must be below end", |(a, b)| {
        let (start, end) = if a <= b { (a, b) } else { (b, a) };
        if end.is_empty() || start < end {
            Some(KeyRange::new(start, end))
        } else if start.is_empty() {
            None
        } else {
            Some(KeyRange::new(start, Vec::new()))
        }
    })
}

fn kid() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..5)
}

proptest! {
    #[test]
    fn intersection_contains_exactly_the_common_ids(a in key_range(), b in key_range(), id in kid()) {
        let both = a.contains(&id) && b.contains(&id);
        match a.intersect(&b) {
            Some(r) => prop_assert_eq!(r.contains(&id), both),
            None => prop_assert!(!both),
        }
    }

    #[test]
    fn intersects_is_symmetric_and_agrees_with_intersect(a in key_range(), b in key_range()) {
        prop_assert_eq!(a.intersects(&b), b.intersects(&a));
        prop_assert_eq!(a.intersects(&b), a.intersect(&b).is_some());
        if let Some(r) = a.intersect(&b) {
            // The overlap's first id is in both ranges.
            prop_assert!(a.contains(&r.start) && b.contains(&r.start));
            prop_assert!(r.same_range(&b.intersect(&a).unwrap()));
        }
    }

    #[test]
    fn full_range_is_the_identity(a in key_range(), id in kid()) {
        prop_assert!(KeyRange::full().contains(&id));
        prop_assert!(a.intersect(&KeyRange::full()).unwrap().same_range(&a));
        prop_assert!(a.intersect(&a).unwrap().same_range(&a));
    }

    #[test]
    fn shard_names_round_trip(a in key_range()) {
        let parsed = KeyRange::parse_shard_name(&a.shard_name()).unwrap();
        prop_assert_eq!(parsed, a);
    }

    #[test]
    fn trailing_zeros_do_not_matter(a in key_range(), id in kid(), zeros in 1usize..3) {
        let mut padded = id.clone();
        padded.extend(std::iter::repeat_n(0u8, zeros));
        prop_assert_eq!(a.contains(&id), a.contains(&padded));
    }

    #[test]
    fn generated_shards_are_contiguous(n in 1usize..600, id in kid()) {
        let shards = generate_shard_ranges(n).unwrap();
        prop_assert_eq!(shards.len(), n);
        let ranges: Vec<KeyRange> = shards.iter().map(|s| KeyRange::parse_shard_name(s).unwrap()).collect();
        prop_assert!(ranges[0].start.is_empty());
        for pair in ranges.windows(2) {
            prop_assert_eq!(&pair[0].end, &pair[1].start);
        }
        prop_assert!(ranges.iter().filter(|r| r.contains(&id)).count() <= 1);
    }

    #[test]
    fn power_of_two_shards_partition_the_keyspace(bits in 0u32..12, id in kid()) {
        // Like Vitess's float arithmetic, other counts can leave the last
        // shard ending at `ff` (49 shards end with `fa-ff`).
        let shards = generate_shard_ranges(1 << bits).unwrap();
        let ranges: Vec<KeyRange> = shards.iter().map(|s| KeyRange::parse_shard_name(s).unwrap()).collect();
        prop_assert!(ranges.last().unwrap().end.is_empty());
        prop_assert_eq!(ranges.iter().filter(|r| r.contains(&id)).count(), 1);
    }

    #[test]
    fn runs_of_shards_are_exact_targets(n in 1usize..64, a in 0usize..64, b in 0usize..64) {
        let shards = generate_shard_ranges(n).unwrap();
        let (first, last) = (a.min(b) % n, a.max(b) % n);
        let (first, last) = (first.min(last), first.max(last));
        let start = KeyRange::parse_shard_name(&shards[first]).unwrap().start;
        let end = KeyRange::parse_shard_name(&shards[last]).unwrap().end;
        let target = KeyRange::new(start, end);
        let want: Vec<usize> = (first..=last).collect();
        prop_assert_eq!(shards_exact_key_range(&shards, &target).unwrap(), want.clone());
        prop_assert_eq!(shards_in_key_range(&shards, &target).unwrap(), want);
    }

    #[test]
    fn reversible_vindexes_round_trip(n in any::<u64>()) {
        for vindex_type in ["hash", "numeric", "reverse_bits"] {
            let v = create_vindex(vindex_type, "v", &Default::default()).unwrap();
            let dest = v.map(&[Value::Uint(n)]).unwrap();
            let Destination::KeyspaceId(kid) = &dest[0] else {
                panic!("{vindex_type}: {dest:?}");
            };
            prop_assert_eq!(kid.0.len(), 8);
            prop_assert_eq!(v.reverse_map(&kid.0).unwrap().unwrap(), Value::Uint(n));
            // A signed value maps like its two's-complement unsigned twin.
            prop_assert_eq!(v.map(&[Value::Int(n as i64)]).unwrap(), dest.clone());
            prop_assert_eq!(v.map(&[Value::Bytes(n.to_string().into_bytes())]).unwrap(), dest);
        }
    }

    #[test]
    fn hash_is_injective_on_pairs(a in any::<u64>(), b in any::<u64>()) {
        prop_assume!(a != b);
        let v = create_vindex("hash", "v", &Default::default()).unwrap();
        let out = v.map(&[Value::Uint(a), Value::Uint(b)]).unwrap();
        prop_assert_ne!(&out[0], &out[1]);
    }
}
