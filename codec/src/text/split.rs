//! Choosing the encoding and cutting a text into parts: [`analyze`] (counts only, called on
//! every OTP create) and [`split`] (builds the parts). Both walk the text once per candidate
//! encoding with table lookups and share one [`Chunker`], so they always agree.

use bytes::Bytes;

use super::gsm7::Charset;
use super::udh::{udh_len, UdhSpec, CONCAT16_IE_LEN, CONCAT8_IE_LEN, SHIFT_IE_LEN};
use super::{
    latin1, packing, ucs2, Concat, Encoding, EncodingChoice, Part, SarInfo, SplitMessage,
    SplitOptions, TextError,
};

/// User data of one SMS: 140 octets, 160 septets.
const UD_OCTETS: usize = 140;
const UD_SEPTETS: usize = 160;
/// Hard ceiling of concatenation: total and seq are single octets.
const MAX_PARTS: usize = 255;
/// message_payload length is a 16-bit field.
const MAX_PAYLOAD: usize = 65_535;

/// Per-character writer for one encoding.
#[derive(Clone, Copy)]
enum Coder {
    Gsm(Charset),
    Ucs2,
    Latin1,
}

impl Coder {
    fn of(enc: &Encoding) -> Self {
        match enc.charset() {
            Some(cs) => Coder::Gsm(cs),
            None if *enc == Encoding::Latin1 => Coder::Latin1,
            None => Coder::Ucs2,
        }
    }

    /// Units (septets, octets, UTF-16 units) `ch` takes, `None` if it cannot be written.
    #[inline]
    fn cost(&self, ch: char) -> Option<usize> {
        match self {
            Coder::Gsm(cs) => cs.code(ch).map(|c| c.cost()),
            Coder::Ucs2 => Some(ch.len_utf16()),
            Coder::Latin1 => latin1::octet(ch).map(|_| 1),
        }
    }
}

/// Units that fit in one part whose UDH takes `udh` octets.
fn capacity(enc: &Encoding, udh: usize) -> usize {
    let octets = UD_OCTETS.saturating_sub(udh);
    match enc {
        Encoding::Gsm7 | Encoding::Gsm7National { .. } => {
            UD_SEPTETS.saturating_sub(udh.saturating_mul(8).div_ceil(7))
        }
        Encoding::Ucs2 => octets / 2,
        Encoding::Latin1 => octets,
    }
}

/// Octets of the national shift IEs an encoding needs.
fn national_ie_len(enc: &Encoding) -> usize {
    match enc {
        Encoding::Gsm7National {
            single_shift,
            locking_shift,
            ..
        } => SHIFT_IE_LEN
            .saturating_mul(usize::from(*single_shift).saturating_add(usize::from(*locking_shift))),
        _ => 0,
    }
}

/// Capacities of a single part and of each part of a concatenated message.
#[derive(Clone, Copy)]
struct Layout {
    single: usize,
    multi: usize,
}

impl Layout {
    fn of(enc: &Encoding, concat: Concat) -> Self {
        let national = national_ie_len(enc);
        // SAR and message_payload leave room for the 8-bit-reference UDH the SMSC adds.
        let concat_ie = match concat {
            Concat::Udh16 => CONCAT16_IE_LEN,
            Concat::Udh8 | Concat::Sar | Concat::Payload => CONCAT8_IE_LEN,
        };
        Self {
            single: capacity(enc, udh_len(national)),
            multi: capacity(enc, udh_len(national.saturating_add(concat_ie))),
        }
    }
}

/// Greedy packing of characters into parts: a character (an escape pair, a surrogate pair)
/// that does not fit whole opens the next part.
struct Chunker {
    cap: usize,
    fill: usize,
    parts: usize,
}

impl Chunker {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            fill: 0,
            parts: 1,
        }
    }
    /// Adds a character of `cost` units; true when it opens a new part.
    #[inline]
    fn add(&mut self, cost: usize) -> bool {
        let filled = self.fill.saturating_add(cost);
        if filled > self.cap && self.fill > 0 {
            self.parts = self.parts.saturating_add(1);
            self.fill = cost;
            true
        } else {
            self.fill = filled;
            false
        }
    }
}

/// Result of one pass over the text.
#[derive(Clone, Copy, Debug)]
struct Measure {
    total: usize,
    segments: usize,
}

/// Measures `text` in `enc`; the error is the first character it lacks and its position.
fn measure(text: &str, enc: &Encoding, concat: Concat) -> Result<Measure, (char, usize)> {
    let coder = Coder::of(enc);
    let layout = Layout::of(enc, concat);
    let mut chunker = Chunker::new(layout.multi);
    let mut total = 0usize;
    for (position, ch) in text.chars().enumerate() {
        let cost = coder.cost(ch).ok_or((ch, position))?;
        total = total.saturating_add(cost);
        chunker.add(cost);
    }
    let segments = if total <= layout.single {
        1
    } else {
        chunker.parts
    };
    Ok(Measure { total, segments })
}

/// National candidates in order of preference: single shift, locking shift, both.
fn national_candidates(opts: &SplitOptions) -> impl Iterator<Item = Encoding> + '_ {
    opts.national_languages
        .iter()
        .enumerate()
        .filter(|(i, lang)| !opts.national_languages.iter().take(*i).any(|l| l == *lang))
        .flat_map(|(_, &language)| {
            let lock = language.has_locking_shift();
            [(true, false), (false, true), (true, true)]
                .into_iter()
                .filter(move |&(_, locking)| lock || !locking)
                .map(
                    move |(single_shift, locking_shift)| Encoding::Gsm7National {
                        language,
                        single_shift,
                        locking_shift,
                    },
                )
        })
}

/// Picks the encoding and measures the text in it.
fn choose(text: &str, opts: &SplitOptions) -> Result<(Encoding, Measure), TextError> {
    let unrepresentable =
        |(ch, position): (char, usize), encoding: &'static str| TextError::Unrepresentable {
            ch,
            position,
            encoding,
        };
    match opts.encoding {
        EncodingChoice::Auto | EncodingChoice::Gsm7 => {
            let first_bad = match measure(text, &Encoding::Gsm7, opts.concat) {
                Ok(m) => return Ok((Encoding::Gsm7, m)),
                Err(bad) => bad,
            };
            // Fewest segments, then fewest septets, then the first candidate (fewest tables).
            let mut best: Option<(Encoding, Measure)> = None;
            for enc in national_candidates(opts) {
                if let Ok(m) = measure(text, &enc, opts.concat) {
                    let better =
                        best.is_none_or(|(_, b)| (m.segments, m.total) < (b.segments, b.total));
                    if better {
                        best = Some((enc, m));
                    }
                }
            }
            match (best, opts.encoding) {
                (Some(found), _) => Ok(found),
                (None, EncodingChoice::Gsm7) => Err(unrepresentable(first_bad, "GSM7")),
                (None, _) => measure(text, &Encoding::Ucs2, opts.concat)
                    .map(|m| (Encoding::Ucs2, m))
                    .map_err(|bad| unrepresentable(bad, "UCS2")),
            }
        }
        EncodingChoice::Ucs2 => measure(text, &Encoding::Ucs2, opts.concat)
            .map(|m| (Encoding::Ucs2, m))
            .map_err(|bad| unrepresentable(bad, "UCS2")),
        EncodingChoice::Latin1 => measure(text, &Encoding::Latin1, opts.concat)
            .map(|m| (Encoding::Latin1, m))
            .map_err(|bad| unrepresentable(bad, "LATIN1")),
    }
}

/// Octets the whole text takes in one message_payload, UDH included.
fn payload_octets(enc: &Encoding, total: usize, packed: bool) -> usize {
    let udh = udh_len(national_ie_len(enc));
    let body = match enc {
        Encoding::Gsm7 | Encoding::Gsm7National { .. } if packed => {
            packing::packed_len(total, packing::fill_bits(udh))
        }
        Encoding::Ucs2 => total.saturating_mul(2),
        _ => total,
    };
    body.saturating_add(udh)
}

fn check_limits(enc: &Encoding, m: Measure, opts: &SplitOptions) -> Result<(), TextError> {
    let max = opts.max_parts.min(MAX_PARTS);
    if m.segments > max {
        return Err(TextError::TooManyParts {
            parts: m.segments,
            max,
        });
    }
    if opts.concat == Concat::Payload {
        let octets = payload_octets(enc, m.total, opts.packed_gsm7);
        if octets > MAX_PAYLOAD {
            return Err(TextError::PayloadTooLong {
                octets,
                max: MAX_PAYLOAD,
            });
        }
    }
    Ok(())
}

/// The encoding [`split`] would use and the SMS segments the text takes, without building
/// the parts. Errors exactly when [`split`] does.
pub fn analyze(text: &str, opts: &SplitOptions) -> Result<(Encoding, usize), TextError> {
    let (enc, m) = choose(text, opts)?;
    check_limits(&enc, m, opts)?;
    Ok((enc, m.segments))
}

/// Encodes `text` and cuts it into parts (see the module documentation for the sizes).
pub fn split(text: &str, opts: &SplitOptions) -> Result<SplitMessage, TextError> {
    let (enc, m) = choose(text, opts)?;
    check_limits(&enc, m, opts)?;
    let single = m.segments == 1 || opts.concat == Concat::Payload;
    let parts = if single {
        build(text, &enc, opts, 1, usize::MAX)?
    } else {
        let total = u8::try_from(m.segments).map_err(|_| TextError::TooManyParts {
            parts: m.segments,
            max: MAX_PARTS,
        })?;
        build(text, &enc, opts, total, Layout::of(&enc, opts.concat).multi)?
    };
    Ok(SplitMessage {
        encoding: enc,
        data_coding: enc.data_coding(),
        parts,
        segments: m.segments,
    })
}

/// One part's place in the shared buffer.
struct Span {
    start: usize,
    udh_end: usize,
    end: usize,
    units: usize,
}

/// Writes every part into one buffer (UDH then payload, part after part) and slices it.
fn build(
    text: &str,
    enc: &Encoding,
    opts: &SplitOptions,
    total: u8,
    cap: usize,
) -> Result<Vec<Part>, TextError> {
    let coder = Coder::of(enc);
    let (single_shift, locking_shift) = match *enc {
        Encoding::Gsm7National {
            language,
            single_shift,
            locking_shift,
        } => (
            single_shift.then_some(language),
            locking_shift.then_some(language),
        ),
        _ => (None, None),
    };
    let udh_concat = |seq: u8| match opts.concat {
        _ if total <= 1 => None,
        Concat::Udh8 => Some((opts.reference & 0xFF, total, seq, false)),
        Concat::Udh16 => Some((opts.reference, total, seq, true)),
        Concat::Sar | Concat::Payload => None,
    };
    let packed = opts.packed_gsm7 && matches!(coder, Coder::Gsm(_));
    let mut buf = Vec::with_capacity(text.len().saturating_mul(2).saturating_add(16));
    let mut septets: Vec<u8> = Vec::new();
    let mut spans: Vec<Span> = Vec::with_capacity(usize::from(total));
    let mut chunker = Chunker::new(cap);

    let open = |buf: &mut Vec<u8>, seq: u8| -> Span {
        let start = buf.len();
        UdhSpec {
            concat: udh_concat(seq),
            single_shift,
            locking_shift,
        }
        .write(buf);
        Span {
            start,
            udh_end: buf.len(),
            end: 0,
            units: 0,
        }
    };
    let close = |buf: &mut Vec<u8>, septets: &mut Vec<u8>, mut span: Span, units: usize| {
        if packed {
            let fill = packing::fill_bits(span.udh_end.saturating_sub(span.start));
            packing::pack_into(septets, fill, buf);
            septets.clear();
        }
        span.end = buf.len();
        span.units = units;
        span
    };

    let mut seq: u8 = 1;
    let mut current = open(&mut buf, seq);
    for (position, ch) in text.chars().enumerate() {
        let bad = || TextError::Unrepresentable {
            ch,
            position,
            encoding: enc.name(),
        };
        let cost = coder.cost(ch).ok_or_else(bad)?;
        let units_before = chunker.fill;
        if chunker.add(cost) {
            let done = close(&mut buf, &mut septets, current, units_before);
            spans.push(done);
            seq = seq.saturating_add(1);
            current = open(&mut buf, seq);
        }
        match coder {
            Coder::Gsm(cs) => {
                let code = cs.code(ch).ok_or_else(bad)?;
                code.push_to(if packed { &mut septets } else { &mut buf });
            }
            Coder::Ucs2 => ucs2::push_char(ch, &mut buf),
            Coder::Latin1 => buf.push(latin1::octet(ch).ok_or_else(bad)?),
        }
    }
    let last = close(&mut buf, &mut septets, current, chunker.fill);
    spans.push(last);

    let all = Bytes::from(buf);
    let sar_total = total;
    Ok(spans
        .into_iter()
        .zip(1u8..)
        .map(|(span, seqnum)| Part {
            udh: (span.udh_end > span.start).then(|| all.slice(span.start..span.udh_end)),
            payload: all.slice(span.udh_end..span.end),
            sar: (opts.concat == Concat::Sar && sar_total > 1).then_some(SarInfo {
                reference: opts.reference,
                total: sar_total,
                seqnum,
            }),
            units: span.units,
        })
        .collect())
}
