//! GSM 03.38 / UCS-2 text and segmentation. (Being written: see issue 2.)
