//! Candle networks that decomposition methods run, with their weight loading.
//!
//! They sit outside [`super::methods`] because a network is an engine, not a method: the
//! `objects` method uses [`u2net`] today, and other methods may run the same network on
//! their own terms. A new shared network goes here as its own folder. Qwen-Image-Layered's
//! networks stay in [`super::methods::qwen`]: only that method runs them, and only with the
//! `qwen` feature.
//!
//! * [`u2net`] — U²-Net-P salient-object matting, weights embedded in the binary.
//! * [`dbnet`] — PP-OCRv4's DBNet text detector, weights embedded in the binary.
//! * [`ocr_rec`] — PP-OCRv4's text-line recogniser (SVTR-LCNet, CTC), weights embedded.
//! * [`depthwise`] — the depthwise convolution and hard-swish both PP-OCR networks use.

pub mod dbnet;
pub mod depthwise;
pub mod ocr_rec;
pub mod u2net;
