//! GSM 7-bit packing (TS 23.038 6.1.2.1.1): septets laid end to end, least significant bit
//! first, after `fill` zero bits that align the text on a septet boundary behind a UDH.
//!
//! When the last octet would end with 7 spare bits, they hold a carriage return so that a
//! receiver does not read them as '@' (6.1.2.3.1); [`unpack`] drops that padding again. The
//! spec's rule is ambiguous for a text whose own last character is a CR ending exactly on an
//! octet boundary: a receiver applying it drops that CR.

/// Carriage return, the padding septet.
const CR: u8 = 0x0D;

/// Fill bits that put the first septet after a UDH of `udh_octets` on a septet boundary.
pub(crate) fn fill_bits(udh_octets: usize) -> u32 {
    let bits = udh_octets.wrapping_mul(8) % 7;
    // 0..=6 always fits.
    u32::try_from((7usize.wrapping_sub(bits)) % 7).unwrap_or(0)
}

/// Packs `septets` (one per octet, top bit ignored) after `fill` zero bits, appending to `out`.
pub(crate) fn pack_into(septets: &[u8], fill: u32, out: &mut Vec<u8>) {
    if septets.is_empty() {
        return;
    }
    let mut acc: u32 = 0;
    let mut nbits: u32 = fill % 8;
    for &s in septets {
        acc |= u32::from(s & 0x7F).wrapping_shl(nbits);
        nbits = nbits.wrapping_add(7);
        while nbits >= 8 {
            out.push(acc.to_le_bytes()[0]);
            acc = acc.wrapping_shr(8);
            nbits = nbits.wrapping_sub(8);
        }
    }
    if nbits > 0 {
        if nbits == 1 {
            acc |= u32::from(CR).wrapping_shl(1);
        }
        out.push(acc.to_le_bytes()[0]);
    }
}

/// Octets `n` septets take after `fill` bits.
pub(crate) fn packed_len(n: usize, fill: u32) -> usize {
    if n == 0 {
        return 0;
    }
    n.saturating_mul(7)
        .saturating_add(fill as usize)
        .div_ceil(8)
}

/// Unpacks every whole septet after `fill` bits, dropping a final CR that only pads 7 spare
/// bits. Never fails: leftover bits shorter than a septet are ignored.
pub(crate) fn unpack(octets: &[u8], fill: u32) -> Vec<u8> {
    let total_bits = octets.len().saturating_mul(8).saturating_sub(fill as usize);
    let mut out = Vec::with_capacity(total_bits / 7);
    let mut acc: u32 = 0;
    let mut nbits: u32 = 0;
    let mut skip = fill % 8;
    for &o in octets {
        let mut byte = u32::from(o);
        let mut avail = 8u32;
        if skip > 0 {
            byte = byte.wrapping_shr(skip);
            avail = avail.wrapping_sub(skip);
            skip = 0;
        }
        acc |= byte.wrapping_shl(nbits);
        nbits = nbits.wrapping_add(avail);
        while nbits >= 7 {
            out.push((acc & 0x7F).to_le_bytes()[0]);
            acc = acc.wrapping_shr(7);
            nbits = nbits.wrapping_sub(7);
        }
    }
    if total_bits % 7 == 0 && out.last() == Some(&CR) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_hello() {
        // "hellohello" packs to E8 32 9B FD 46 97 D9 EC 37 (a classic worked example).
        let septets = b"hellohello";
        let mut out = Vec::new();
        pack_into(septets, 0, &mut out);
        assert_eq!(out, [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]);
        assert_eq!(unpack(&out, 0), septets);
    }

    #[test]
    fn seven_spare_bits_hold_a_cr() {
        let septets = [0x41u8; 7]; // 49 bits: 7 spare
        let mut out = Vec::new();
        pack_into(&septets, 0, &mut out);
        assert_eq!(out.len(), 7);
        assert_eq!(out[6] >> 1, CR);
        assert_eq!(unpack(&out, 0), septets);
    }

    #[test]
    fn fill_bits_for_udh_lengths() {
        assert_eq!(fill_bits(0), 0);
        assert_eq!(fill_bits(6), 1); // 48 bits + 1 = 49 = 7 septets
        assert_eq!(fill_bits(7), 0); // 56 bits = 8 septets
        assert_eq!(fill_bits(4), 3); // 32 + 3 = 35 = 5 septets
        for n in 0..20 {
            let septets: Vec<u8> = (0..n).map(|i| (i * 5 % 128) as u8).collect();
            for fill in 0..7 {
                let mut out = Vec::new();
                pack_into(&septets, fill, &mut out);
                assert_eq!(out.len(), packed_len(septets.len(), fill));
                let back = unpack(&out, fill);
                assert_eq!(back, septets, "n={n} fill={fill}");
            }
        }
    }
}
