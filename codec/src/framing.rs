//! The tokio_util codec that frames SMPP PDUs. (Being written: see issue 2.)
