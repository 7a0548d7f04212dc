//! The Indian national language tables of 3GPP TS 23.038 annex A: single shift A.2.4 to
//! A.2.13 and locking shift A.3.4 to A.3.13 (national language identifiers 4 to 13), used
//! through [`NationalLanguage`](super::NationalLanguage).
//!
//! Transcribed from the spec's grids as published in ndf-zz/gsmcodecs (`lut/*_lock.csv`,
//! `lut/*_shift.csv`, "3GPP TS 23.038 version 18.0.0 Release 18", commit 9dff0caa), with two
//! corrections where that transcription departs from the spec: 0x2C of every locking
//! table is the comma (gsmcodecs reads an apostrophe) and 0x65 of the Telugu single shift
//! table is the euro sign (gsmcodecs has a hole), both as V16.0.0 prints them (in the
//! transcription of that version in a CyberChef GSM-7 module) and as AOSP has them. One
//! entry departs from the spec itself: see `KANNADA_LOCKING`. Every entry is checked against
//! a second, independent source, AOSP's `GsmAlphabet.java`
//! (`codec/tests/fixtures/national_tables_aosp.txt`).
//!
//! [`NONE`] marks the spec's unassigned code points, and 0x1B (the escape) in every table.
//! The single shift tables list `*` (0x0B and 0x18) and `¡` (0x13 and 0x15) twice, as the
//! spec does: both decode, the first is the one written.

use super::gsm7::{Alphabet, Table, NONE};

/// A.3.4 Bengali national language locking shift table (114 characters).
const BENGALI_LOCKING: Table = [
    '\u{981}', '\u{982}', '\u{983}', '\u{985}', '\u{986}', '\u{987}', '\u{988}',
    '\u{989}', // 0x00
    '\u{98a}', '\u{98b}', '\n', '\u{98c}', NONE, '\r', NONE, '\u{98f}', // 0x08
    '\u{990}', NONE, NONE, '\u{993}', '\u{994}', '\u{995}', '\u{996}', '\u{997}', // 0x10
    '\u{998}', '\u{999}', '\u{99a}', NONE, '\u{99b}', '\u{99c}', '\u{99d}', '\u{99e}', // 0x18
    ' ', '!', '\u{99f}', '\u{9a0}', '\u{9a1}', '\u{9a2}', '\u{9a3}', '\u{9a4}', // 0x20
    ')', '(', '\u{9a5}', '\u{9a6}', ',', '\u{9a7}', '.', '\u{9a8}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{9aa}', '\u{9ab}', '?', // 0x38
    '\u{9ac}', '\u{9ad}', '\u{9ae}', '\u{9af}', '\u{9b0}', NONE, '\u{9b2}', NONE, // 0x40
    NONE, NONE, '\u{9b6}', '\u{9b7}', '\u{9b8}', '\u{9b9}', '\u{9bc}', '\u{9bd}', // 0x48
    '\u{9be}', '\u{9bf}', '\u{9c0}', '\u{9c1}', '\u{9c2}', '\u{9c3}', '\u{9c4}', NONE, // 0x50
    NONE, '\u{9c7}', '\u{9c8}', NONE, NONE, '\u{9cb}', '\u{9cc}', '\u{9cd}', // 0x58
    '\u{9ce}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{9d7}', '\u{9dc}', '\u{9dd}', '\u{9f0}', '\u{9f1}', // 0x78
];
/// A.2.4 Bengali national language single shift table (82 characters).
const BENGALI_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{9e6}', '\u{9e7}', NONE, '\u{9e8}', '\u{9e9}', '\u{9ea}', '\u{9eb}', // 0x18
    '\u{9ec}', '\u{9ed}', '\u{9ee}', '\u{9ef}', '\u{9df}', '\u{9e0}', '\u{9e1}',
    '\u{9e2}', // 0x20
    '{', '}', '\u{9e3}', '\u{9f2}', '\u{9f3}', '\u{9f4}', '\u{9f5}', '\\', // 0x28
    '\u{9f6}', '\u{9f7}', '\u{9f8}', '\u{9f9}', '\u{9fa}', NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.5 Gujarati national language locking shift table (120 characters).
const GUJARATI_LOCKING: Table = [
    '\u{a81}', '\u{a82}', '\u{a83}', '\u{a85}', '\u{a86}', '\u{a87}', '\u{a88}',
    '\u{a89}', // 0x00
    '\u{a8a}', '\u{a8b}', '\n', '\u{a8c}', '\u{a8d}', '\r', NONE, '\u{a8f}', // 0x08
    '\u{a90}', '\u{a91}', NONE, '\u{a93}', '\u{a94}', '\u{a95}', '\u{a96}', '\u{a97}', // 0x10
    '\u{a98}', '\u{a99}', '\u{a9a}', NONE, '\u{a9b}', '\u{a9c}', '\u{a9d}', '\u{a9e}', // 0x18
    ' ', '!', '\u{a9f}', '\u{aa0}', '\u{aa1}', '\u{aa2}', '\u{aa3}', '\u{aa4}', // 0x20
    ')', '(', '\u{aa5}', '\u{aa6}', ',', '\u{aa7}', '.', '\u{aa8}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{aaa}', '\u{aab}', '?', // 0x38
    '\u{aac}', '\u{aad}', '\u{aae}', '\u{aaf}', '\u{ab0}', NONE, '\u{ab2}', '\u{ab3}', // 0x40
    NONE, '\u{ab5}', '\u{ab6}', '\u{ab7}', '\u{ab8}', '\u{ab9}', '\u{abc}', '\u{abd}', // 0x48
    '\u{abe}', '\u{abf}', '\u{ac0}', '\u{ac1}', '\u{ac2}', '\u{ac3}', '\u{ac4}',
    '\u{ac5}', // 0x50
    NONE, '\u{ac7}', '\u{ac8}', '\u{ac9}', NONE, '\u{acb}', '\u{acc}', '\u{acd}', // 0x58
    '\u{ad0}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{ae0}', '\u{ae1}', '\u{ae2}', '\u{ae3}', '\u{af1}', // 0x78
];
/// A.2.5 Gujarati national language single shift table (70 characters).
const GUJARATI_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{ae6}', '\u{ae7}', '\u{ae8}', '\u{ae9}', // 0x18
    '\u{aea}', '\u{aeb}', '\u{aec}', '\u{aed}', '\u{aee}', '\u{aef}', NONE, NONE, // 0x20
    '{', '}', NONE, NONE, NONE, NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.6 Hindi national language locking shift table (127 characters).
const HINDI_LOCKING: Table = [
    '\u{901}', '\u{902}', '\u{903}', '\u{905}', '\u{906}', '\u{907}', '\u{908}',
    '\u{909}', // 0x00
    '\u{90a}', '\u{90b}', '\n', '\u{90c}', '\u{90d}', '\r', '\u{90e}', '\u{90f}', // 0x08
    '\u{910}', '\u{911}', '\u{912}', '\u{913}', '\u{914}', '\u{915}', '\u{916}',
    '\u{917}', // 0x10
    '\u{918}', '\u{919}', '\u{91a}', NONE, '\u{91b}', '\u{91c}', '\u{91d}', '\u{91e}', // 0x18
    ' ', '!', '\u{91f}', '\u{920}', '\u{921}', '\u{922}', '\u{923}', '\u{924}', // 0x20
    ')', '(', '\u{925}', '\u{926}', ',', '\u{927}', '.', '\u{928}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', '\u{929}', '\u{92a}', '\u{92b}', '?', // 0x38
    '\u{92c}', '\u{92d}', '\u{92e}', '\u{92f}', '\u{930}', '\u{931}', '\u{932}',
    '\u{933}', // 0x40
    '\u{934}', '\u{935}', '\u{936}', '\u{937}', '\u{938}', '\u{939}', '\u{93c}',
    '\u{93d}', // 0x48
    '\u{93e}', '\u{93f}', '\u{940}', '\u{941}', '\u{942}', '\u{943}', '\u{944}',
    '\u{945}', // 0x50
    '\u{946}', '\u{947}', '\u{948}', '\u{949}', '\u{94a}', '\u{94b}', '\u{94c}',
    '\u{94d}', // 0x58
    '\u{950}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{972}', '\u{97b}', '\u{97c}', '\u{97e}', '\u{97f}', // 0x78
];
/// A.2.6 Hindi national language single shift table (88 characters).
const HINDI_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{966}', '\u{967}', '\u{968}', '\u{969}', // 0x18
    '\u{96a}', '\u{96b}', '\u{96c}', '\u{96d}', '\u{96e}', '\u{96f}', '\u{951}',
    '\u{952}', // 0x20
    '{', '}', '\u{953}', '\u{954}', '\u{958}', '\u{959}', '\u{95a}', '\\', // 0x28
    '\u{95b}', '\u{95c}', '\u{95d}', '\u{95e}', '\u{95f}', '\u{960}', '\u{961}',
    '\u{962}', // 0x30
    '\u{963}', '\u{970}', '\u{971}', NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.7 Kannada national language locking shift table (120 characters).
/// 0x24 is U+0CA1 KANNADA LETTER DDA: the spec prints U+0CAA there, a second PA (PA is
/// also 0x3D) where the Unicode order of its row puts DDA; AOSP reads 0x24 as DDA too. We
/// read it as DDA and never write it (see `KANNADA_LOCK`).
const KANNADA_LOCKING: Table = [
    NONE, '\u{c82}', '\u{c83}', '\u{c85}', '\u{c86}', '\u{c87}', '\u{c88}', '\u{c89}', // 0x00
    '\u{c8a}', '\u{c8b}', '\n', '\u{c8c}', NONE, '\r', '\u{c8e}', '\u{c8f}', // 0x08
    '\u{c90}', NONE, '\u{c92}', '\u{c93}', '\u{c94}', '\u{c95}', '\u{c96}', '\u{c97}', // 0x10
    '\u{c98}', '\u{c99}', '\u{c9a}', NONE, '\u{c9b}', '\u{c9c}', '\u{c9d}', '\u{c9e}', // 0x18
    ' ', '!', '\u{c9f}', '\u{ca0}', '\u{ca1}', '\u{ca2}', '\u{ca3}', '\u{ca4}', // 0x20
    ')', '(', '\u{ca5}', '\u{ca6}', ',', '\u{ca7}', '.', '\u{ca8}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{caa}', '\u{cab}', '?', // 0x38
    '\u{cac}', '\u{cad}', '\u{cae}', '\u{caf}', '\u{cb0}', '\u{cb1}', '\u{cb2}',
    '\u{cb3}', // 0x40
    NONE, '\u{cb5}', '\u{cb6}', '\u{cb7}', '\u{cb8}', '\u{cb9}', '\u{cbc}', '\u{cbd}', // 0x48
    '\u{cbe}', '\u{cbf}', '\u{cc0}', '\u{cc1}', '\u{cc2}', '\u{cc3}', '\u{cc4}', NONE, // 0x50
    '\u{cc6}', '\u{cc7}', '\u{cc8}', NONE, '\u{cca}', '\u{ccb}', '\u{ccc}', '\u{ccd}', // 0x58
    '\u{cd5}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{cd6}', '\u{ce0}', '\u{ce1}', '\u{ce2}', '\u{ce3}', // 0x78
];
/// A.2.7 Kannada national language single shift table (73 characters).
const KANNADA_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{ce6}', '\u{ce7}', '\u{ce8}', '\u{ce9}', // 0x18
    '\u{cea}', '\u{ceb}', '\u{cec}', '\u{ced}', '\u{cee}', '\u{cef}', '\u{cde}',
    '\u{cf1}', // 0x20
    '{', '}', '\u{cf2}', NONE, NONE, NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.8 Malayalam national language locking shift table (120 characters).
const MALAYALAM_LOCKING: Table = [
    NONE, '\u{d02}', '\u{d03}', '\u{d05}', '\u{d06}', '\u{d07}', '\u{d08}', '\u{d09}', // 0x00
    '\u{d0a}', '\u{d0b}', '\n', '\u{d0c}', NONE, '\r', '\u{d0e}', '\u{d0f}', // 0x08
    '\u{d10}', NONE, '\u{d12}', '\u{d13}', '\u{d14}', '\u{d15}', '\u{d16}', '\u{d17}', // 0x10
    '\u{d18}', '\u{d19}', '\u{d1a}', NONE, '\u{d1b}', '\u{d1c}', '\u{d1d}', '\u{d1e}', // 0x18
    ' ', '!', '\u{d1f}', '\u{d20}', '\u{d21}', '\u{d22}', '\u{d23}', '\u{d24}', // 0x20
    ')', '(', '\u{d25}', '\u{d26}', ',', '\u{d27}', '.', '\u{d28}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{d2a}', '\u{d2b}', '?', // 0x38
    '\u{d2c}', '\u{d2d}', '\u{d2e}', '\u{d2f}', '\u{d30}', '\u{d31}', '\u{d32}',
    '\u{d33}', // 0x40
    '\u{d34}', '\u{d35}', '\u{d36}', '\u{d37}', '\u{d38}', '\u{d39}', NONE, '\u{d3d}', // 0x48
    '\u{d3e}', '\u{d3f}', '\u{d40}', '\u{d41}', '\u{d42}', '\u{d43}', '\u{d44}', NONE, // 0x50
    '\u{d46}', '\u{d47}', '\u{d48}', NONE, '\u{d4a}', '\u{d4b}', '\u{d4c}', '\u{d4d}', // 0x58
    '\u{d57}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{d60}', '\u{d61}', '\u{d62}', '\u{d63}', '\u{d79}', // 0x78
];
/// A.2.8 Malayalam national language single shift table (82 characters).
const MALAYALAM_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{d66}', '\u{d67}', '\u{d68}', '\u{d69}', // 0x18
    '\u{d6a}', '\u{d6b}', '\u{d6c}', '\u{d6d}', '\u{d6e}', '\u{d6f}', '\u{d70}',
    '\u{d71}', // 0x20
    '{', '}', '\u{d72}', '\u{d73}', '\u{d74}', '\u{d75}', '\u{d7a}', '\\', // 0x28
    '\u{d7b}', '\u{d7c}', '\u{d7d}', '\u{d7e}', '\u{d7f}', NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.9 Oriya national language locking shift table (116 characters).
const ORIYA_LOCKING: Table = [
    '\u{b01}', '\u{b02}', '\u{b03}', '\u{b05}', '\u{b06}', '\u{b07}', '\u{b08}',
    '\u{b09}', // 0x00
    '\u{b0a}', '\u{b0b}', '\n', '\u{b0c}', NONE, '\r', NONE, '\u{b0f}', // 0x08
    '\u{b10}', NONE, NONE, '\u{b13}', '\u{b14}', '\u{b15}', '\u{b16}', '\u{b17}', // 0x10
    '\u{b18}', '\u{b19}', '\u{b1a}', NONE, '\u{b1b}', '\u{b1c}', '\u{b1d}', '\u{b1e}', // 0x18
    ' ', '!', '\u{b1f}', '\u{b20}', '\u{b21}', '\u{b22}', '\u{b23}', '\u{b24}', // 0x20
    ')', '(', '\u{b25}', '\u{b26}', ',', '\u{b27}', '.', '\u{b28}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{b2a}', '\u{b2b}', '?', // 0x38
    '\u{b2c}', '\u{b2d}', '\u{b2e}', '\u{b2f}', '\u{b30}', NONE, '\u{b32}', '\u{b33}', // 0x40
    NONE, '\u{b35}', '\u{b36}', '\u{b37}', '\u{b38}', '\u{b39}', '\u{b3c}', '\u{b3d}', // 0x48
    '\u{b3e}', '\u{b3f}', '\u{b40}', '\u{b41}', '\u{b42}', '\u{b43}', '\u{b44}', NONE, // 0x50
    NONE, '\u{b47}', '\u{b48}', NONE, NONE, '\u{b4b}', '\u{b4c}', '\u{b4d}', // 0x58
    '\u{b56}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{b57}', '\u{b60}', '\u{b61}', '\u{b62}', '\u{b63}', // 0x78
];
/// A.2.9 Oriya national language single shift table (75 characters).
const ORIYA_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{b66}', '\u{b67}', '\u{b68}', '\u{b69}', // 0x18
    '\u{b6a}', '\u{b6b}', '\u{b6c}', '\u{b6d}', '\u{b6e}', '\u{b6f}', '\u{b5c}',
    '\u{b5d}', // 0x20
    '{', '}', '\u{b5f}', '\u{b70}', '\u{b71}', NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.10 Punjabi national language locking shift table (110 characters).
const PUNJABI_LOCKING: Table = [
    '\u{a01}', '\u{a02}', '\u{a03}', '\u{a05}', '\u{a06}', '\u{a07}', '\u{a08}',
    '\u{a09}', // 0x00
    '\u{a0a}', NONE, '\n', NONE, NONE, '\r', NONE, '\u{a0f}', // 0x08
    '\u{a10}', NONE, NONE, '\u{a13}', '\u{a14}', '\u{a15}', '\u{a16}', '\u{a17}', // 0x10
    '\u{a18}', '\u{a19}', '\u{a1a}', NONE, '\u{a1b}', '\u{a1c}', '\u{a1d}', '\u{a1e}', // 0x18
    ' ', '!', '\u{a1f}', '\u{a20}', '\u{a21}', '\u{a22}', '\u{a23}', '\u{a24}', // 0x20
    ')', '(', '\u{a25}', '\u{a26}', ',', '\u{a27}', '.', '\u{a28}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{a2a}', '\u{a2b}', '?', // 0x38
    '\u{a2c}', '\u{a2d}', '\u{a2e}', '\u{a2f}', '\u{a30}', NONE, '\u{a32}', '\u{a33}', // 0x40
    NONE, '\u{a35}', '\u{a36}', NONE, '\u{a38}', '\u{a39}', '\u{a3c}', NONE, // 0x48
    '\u{a3e}', '\u{a3f}', '\u{a40}', '\u{a41}', '\u{a42}', NONE, NONE, NONE, // 0x50
    NONE, '\u{a47}', '\u{a48}', NONE, NONE, '\u{a4b}', '\u{a4c}', '\u{a4d}', // 0x58
    '\u{a51}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{a70}', '\u{a71}', '\u{a72}', '\u{a73}', '\u{a74}', // 0x78
];
/// A.2.10 Punjabi national language single shift table (76 characters).
const PUNJABI_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{a66}', '\u{a67}', '\u{a68}', '\u{a69}', // 0x18
    '\u{a6a}', '\u{a6b}', '\u{a6c}', '\u{a6d}', '\u{a6e}', '\u{a6f}', '\u{a59}',
    '\u{a5a}', // 0x20
    '{', '}', '\u{a5b}', '\u{a5c}', '\u{a5e}', '\u{a75}', NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.11 Tamil national language locking shift table (102 characters).
const TAMIL_LOCKING: Table = [
    NONE, '\u{b82}', '\u{b83}', '\u{b85}', '\u{b86}', '\u{b87}', '\u{b88}', '\u{b89}', // 0x00
    '\u{b8a}', NONE, '\n', NONE, NONE, '\r', '\u{b8e}', '\u{b8f}', // 0x08
    '\u{b90}', NONE, '\u{b92}', '\u{b93}', '\u{b94}', '\u{b95}', NONE, NONE, // 0x10
    NONE, '\u{b99}', '\u{b9a}', NONE, NONE, '\u{b9c}', NONE, '\u{b9e}', // 0x18
    ' ', '!', '\u{b9f}', NONE, NONE, NONE, '\u{ba3}', '\u{ba4}', // 0x20
    ')', '(', NONE, NONE, ',', NONE, '.', '\u{ba8}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', '\u{ba9}', '\u{baa}', NONE, '?', // 0x38
    NONE, NONE, '\u{bae}', '\u{baf}', '\u{bb0}', '\u{bb1}', '\u{bb2}', '\u{bb3}', // 0x40
    '\u{bb4}', '\u{bb5}', '\u{bb6}', '\u{bb7}', '\u{bb8}', '\u{bb9}', NONE, NONE, // 0x48
    '\u{bbe}', '\u{bbf}', '\u{bc0}', '\u{bc1}', '\u{bc2}', NONE, NONE, NONE, // 0x50
    '\u{bc6}', '\u{bc7}', '\u{bc8}', NONE, '\u{bca}', '\u{bcb}', '\u{bcc}', '\u{bcd}', // 0x58
    '\u{bd0}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{bd7}', '\u{bf0}', '\u{bf1}', '\u{bf2}', '\u{bf9}', // 0x78
];
/// A.2.11 Tamil national language single shift table (77 characters).
const TAMIL_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{964}', '\u{965}', NONE, '\u{be6}', '\u{be7}', '\u{be8}', '\u{be9}', // 0x18
    '\u{bea}', '\u{beb}', '\u{bec}', '\u{bed}', '\u{bee}', '\u{bef}', '\u{bf3}',
    '\u{bf4}', // 0x20
    '{', '}', '\u{bf5}', '\u{bf6}', '\u{bf7}', '\u{bf8}', '\u{bfa}', '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.12 Telugu national language locking shift table (120 characters).
const TELUGU_LOCKING: Table = [
    '\u{c01}', '\u{c02}', '\u{c03}', '\u{c05}', '\u{c06}', '\u{c07}', '\u{c08}',
    '\u{c09}', // 0x00
    '\u{c0a}', '\u{c0b}', '\n', '\u{c0c}', NONE, '\r', '\u{c0e}', '\u{c0f}', // 0x08
    '\u{c10}', NONE, '\u{c12}', '\u{c13}', '\u{c14}', '\u{c15}', '\u{c16}', '\u{c17}', // 0x10
    '\u{c18}', '\u{c19}', '\u{c1a}', NONE, '\u{c1b}', '\u{c1c}', '\u{c1d}', '\u{c1e}', // 0x18
    ' ', '!', '\u{c1f}', '\u{c20}', '\u{c21}', '\u{c22}', '\u{c23}', '\u{c24}', // 0x20
    ')', '(', '\u{c25}', '\u{c26}', ',', '\u{c27}', '.', '\u{c28}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', NONE, '\u{c2a}', '\u{c2b}', '?', // 0x38
    '\u{c2c}', '\u{c2d}', '\u{c2e}', '\u{c2f}', '\u{c30}', '\u{c31}', '\u{c32}',
    '\u{c33}', // 0x40
    NONE, '\u{c35}', '\u{c36}', '\u{c37}', '\u{c38}', '\u{c39}', NONE, '\u{c3d}', // 0x48
    '\u{c3e}', '\u{c3f}', '\u{c40}', '\u{c41}', '\u{c42}', '\u{c43}', '\u{c44}', NONE, // 0x50
    '\u{c46}', '\u{c47}', '\u{c48}', NONE, '\u{c4a}', '\u{c4b}', '\u{c4c}', '\u{c4d}', // 0x58
    '\u{c55}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{c56}', '\u{c60}', '\u{c61}', '\u{c62}', '\u{c63}', // 0x78
];
/// A.2.12 Telugu national language single shift table (78 characters).
const TELUGU_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', NONE, NONE, NONE, '\u{c66}', '\u{c67}', '\u{c68}', '\u{c69}', // 0x18
    '\u{c6a}', '\u{c6b}', '\u{c6c}', '\u{c6d}', '\u{c6e}', '\u{c6f}', '\u{c58}',
    '\u{c59}', // 0x20
    '{', '}', '\u{c78}', '\u{c79}', '\u{c7a}', '\u{c7b}', '\u{c7c}', '\\', // 0x28
    '\u{c7d}', '\u{c7e}', '\u{c7f}', NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.13 Urdu national language locking shift table (127 characters).
const URDU_LOCKING: Table = [
    '\u{627}', '\u{622}', '\u{628}', '\u{67b}', '\u{680}', '\u{67e}', '\u{6a6}',
    '\u{62a}', // 0x00
    '\u{6c2}', '\u{67f}', '\n', '\u{679}', '\u{67d}', '\r', '\u{67a}', '\u{67c}', // 0x08
    '\u{62b}', '\u{62c}', '\u{681}', '\u{684}', '\u{683}', '\u{685}', '\u{686}',
    '\u{687}', // 0x10
    '\u{62d}', '\u{62e}', '\u{62f}', NONE, '\u{68c}', '\u{688}', '\u{689}', '\u{68a}', // 0x18
    ' ', '!', '\u{68f}', '\u{68d}', '\u{630}', '\u{631}', '\u{691}', '\u{693}', // 0x20
    ')', '(', '\u{699}', '\u{632}', ',', '\u{696}', '.', '\u{698}', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', '\u{69a}', '\u{633}', '\u{634}', '?', // 0x38
    '\u{635}', '\u{636}', '\u{637}', '\u{638}', '\u{639}', '\u{641}', '\u{642}',
    '\u{6a9}', // 0x40
    '\u{6aa}', '\u{6ab}', '\u{6af}', '\u{6b3}', '\u{6b1}', '\u{644}', '\u{645}',
    '\u{646}', // 0x48
    '\u{6ba}', '\u{6bb}', '\u{6bc}', '\u{648}', '\u{6c4}', '\u{6d5}', '\u{6c1}',
    '\u{6be}', // 0x50
    '\u{621}', '\u{6cc}', '\u{6d0}', '\u{6d2}', '\u{64d}', '\u{650}', '\u{64f}',
    '\u{657}', // 0x58
    '\u{654}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{655}', '\u{651}', '\u{653}', '\u{656}', '\u{670}', // 0x78
];
/// A.2.13 Urdu national language single shift table (90 characters).
const URDU_SINGLE: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{bf}', '"', '\u{a4}', '%', // 0x00
    '&', '\'', '\u{c}', '*', '+', NONE, '-', '/', // 0x08
    '<', '=', '>', '\u{a1}', '^', '\u{a1}', '_', '#', // 0x10
    '*', '\u{600}', '\u{601}', NONE, '\u{6f0}', '\u{6f1}', '\u{6f2}', '\u{6f3}', // 0x18
    '\u{6f4}', '\u{6f5}', '\u{6f6}', '\u{6f7}', '\u{6f8}', '\u{6f9}', '\u{60c}',
    '\u{60d}', // 0x20
    '{', '}', '\u{60e}', '\u{60f}', '\u{610}', '\u{611}', '\u{612}', '\\', // 0x28
    '\u{613}', '\u{614}', '\u{61b}', '\u{61f}', '\u{640}', '\u{652}', '\u{658}',
    '\u{66b}', // 0x30
    '\u{66c}', '\u{672}', '\u{673}', '\u{6cd}', '[', '~', ']', '\u{6d4}', // 0x38
    '|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];

pub(super) static BENGALI_LOCK: Alphabet = Alphabet::new(BENGALI_LOCKING);
pub(super) static BENGALI_SHIFT: Alphabet = Alphabet::new(BENGALI_SINGLE);
pub(super) static GUJARATI_LOCK: Alphabet = Alphabet::new(GUJARATI_LOCKING);
pub(super) static GUJARATI_SHIFT: Alphabet = Alphabet::new(GUJARATI_SINGLE);
pub(super) static HINDI_LOCK: Alphabet = Alphabet::new(HINDI_LOCKING);
pub(super) static HINDI_SHIFT: Alphabet = Alphabet::new(HINDI_SINGLE);
/// A handset that follows the printed table would show PA for a DDA sent at 0x24: a text
/// with DDA goes out in UCS-2 instead.
pub(super) static KANNADA_LOCK: Alphabet = Alphabet::decode_only_at(KANNADA_LOCKING, 0x24);
pub(super) static KANNADA_SHIFT: Alphabet = Alphabet::new(KANNADA_SINGLE);
pub(super) static MALAYALAM_LOCK: Alphabet = Alphabet::new(MALAYALAM_LOCKING);
pub(super) static MALAYALAM_SHIFT: Alphabet = Alphabet::new(MALAYALAM_SINGLE);
pub(super) static ORIYA_LOCK: Alphabet = Alphabet::new(ORIYA_LOCKING);
pub(super) static ORIYA_SHIFT: Alphabet = Alphabet::new(ORIYA_SINGLE);
pub(super) static PUNJABI_LOCK: Alphabet = Alphabet::new(PUNJABI_LOCKING);
pub(super) static PUNJABI_SHIFT: Alphabet = Alphabet::new(PUNJABI_SINGLE);
pub(super) static TAMIL_LOCK: Alphabet = Alphabet::new(TAMIL_LOCKING);
pub(super) static TAMIL_SHIFT: Alphabet = Alphabet::new(TAMIL_SINGLE);
pub(super) static TELUGU_LOCK: Alphabet = Alphabet::new(TELUGU_LOCKING);
pub(super) static TELUGU_SHIFT: Alphabet = Alphabet::new(TELUGU_SINGLE);
pub(super) static URDU_LOCK: Alphabet = Alphabet::new(URDU_LOCKING);
pub(super) static URDU_SHIFT: Alphabet = Alphabet::new(URDU_SINGLE);
