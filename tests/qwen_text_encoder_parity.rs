//! The candle Qwen2.5-VL text encoder against transformers, and the prompt encoding against
//! diffusers' `QwenImageLayeredPipeline._get_qwen_prompt_embeds`, on the tiny random model and
//! tokenizer of `scripts/qwen_parity_text_encoder.py` (committed in `tests/data/qwen/`,
//! regenerated first when `STRATA_QWEN_PYTHON` has torch, transformers and diffusers).
#![cfg(feature = "qwen")]
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

mod qwen_reference;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;
use strata::decompose::methods::qwen::text_encoder::{
    LAYERED_DROP_IDX, LAYERED_TEMPLATE, PromptEncoder, PromptTemplate, QwenTextEncoder,
    TextEncoderConfig, drop_and_pad, load_tokenizer, tokenize_prompts,
};
use tokenizers::Tokenizer;
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;

/// The tolerance of the f32 comparison.
const TOLERANCE: f32 = 1e-4;

/// The folder holding `text_encoder.safetensors`, `text_encoder_config.json` and
/// `text_encoder_tokenizer/`: freshly regenerated (once per test process) or the committed one.
fn reference_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let file = qwen_reference::regenerate("text_encoder", "text_encoder.safetensors")
            .unwrap_or_else(|| qwen_reference::committed("text_encoder.safetensors"));
        file.parent().unwrap().to_path_buf()
    })
}

/// The reference's weights (everything not under `io.`) and its cases (`io.` stripped).
fn reference() -> (HashMap<String, Tensor>, HashMap<String, Tensor>) {
    let all = candle_core::safetensors::load(
        reference_dir().join("text_encoder.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    let (io, weights): (HashMap<_, _>, HashMap<_, _>) =
        all.into_iter().partition(|(k, _)| k.starts_with("io."));
    let io = io
        .into_iter()
        .map(|(k, v)| (k["io.".len()..].to_string(), v))
        .collect();
    (weights, io)
}

fn config() -> TextEncoderConfig {
    TextEncoderConfig::from_file(&reference_dir().join("text_encoder_config.json")).unwrap()
}

fn model(weights: HashMap<String, Tensor>, dtype: DType) -> QwenTextEncoder {
    let vb = VarBuilder::from_tensors(weights, dtype, &Device::Cpu);
    QwenTextEncoder::new(&config(), vb).unwrap()
}

fn ids(t: &Tensor) -> Tensor {
    t.to_dtype(DType::U32).unwrap()
}

/// Largest |a − b| over the positions of `[B, L, H]` where `mask` (`[B, L]`) is `keep`.
fn max_diff_where(a: &Tensor, b: &Tensor, mask: &Tensor, keep: bool) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let a = a.to_dtype(DType::F32).unwrap().to_vec3::<f32>().unwrap();
    let b = b.to_dtype(DType::F32).unwrap().to_vec3::<f32>().unwrap();
    let mask = mask.to_dtype(DType::F32).unwrap().to_vec2::<f32>().unwrap();
    let mut worst = 0f32;
    for (bi, rows) in a.iter().enumerate() {
        for (li, row) in rows.iter().enumerate() {
            if (mask[bi][li] != 0.0) != keep {
                continue;
            }
            for (x, y) in row.iter().zip(&b[bi][li]) {
                worst = worst.max((x - y).abs());
            }
        }
    }
    worst
}

/// The f32 forward for one padding case; returns (max |Δ| on tokens, on padding).
fn check_case(encoder: &QwenTextEncoder, io: &HashMap<String, Tensor>, case: &str) -> (f32, f32) {
    let input_ids = ids(&io[&format!("{case}.input_ids")]);
    let mask = &io[&format!("{case}.attention_mask")];
    let got = encoder.forward(&input_ids, mask).unwrap();
    let want = &io[&format!("{case}.hidden")];
    let tokens = max_diff_where(&got, want, mask, true);
    let padding = max_diff_where(&got, want, mask, false);
    println!("{case}: max |Δ| {tokens:.2e} on tokens, {padding:.2e} on padding");
    (tokens, padding)
}

#[test]
fn forward_matches_transformers_f32() {
    let (weights, io) = reference();
    let encoder = model(weights, DType::F32);
    for case in ["right", "left"] {
        let (tokens, padding) = check_case(&encoder, &io, case);
        assert!(tokens <= TOLERANCE, "{case}: {tokens} on tokens");
        // Padding slots are never read, but they match too: right padding attends to the real
        // tokens before it, and a left-padded slot (nothing to attend to) averages every value
        // uniformly in both implementations.
        assert!(padding <= TOLERANCE, "{case}: {padding} on padding");
    }
}

#[test]
fn mrope_sections_match_transformers() {
    let (weights, io) = reference();
    let encoder = model(weights, DType::F32);
    let input_ids = ids(&io["right.input_ids"]);
    let mask = &io["right.attention_mask"];
    let positions = io["mrope.position_ids"].to_dtype(DType::U32).unwrap();
    let got = encoder
        .forward_with_positions(&input_ids, mask, &positions)
        .unwrap();
    let tokens = max_diff_where(&got, &io["mrope.hidden"], mask, true);
    println!("mrope (distinct axes): max |Δ| {tokens:.2e} on tokens");
    assert!(tokens <= TOLERANCE, "{tokens}");
    // Distinct axes must change the result, or the case tests nothing.
    let plain = max_diff_where(&io["right.hidden"], &io["mrope.hidden"], mask, true);
    assert!(plain > 1e-2, "{plain}");
}

#[test]
fn old_checkpoint_layout_loads_the_same() {
    // transformers < 4.52 saved the language model as `model.*` beside `visual.*` and `lm_head`.
    let (weights, io) = reference();
    let mut old: HashMap<String, Tensor> = weights
        .into_iter()
        .map(|(k, v)| (k.replace("model.language_model.", "model."), v))
        .collect();
    let dummy = Tensor::zeros((2, 2), DType::F32, &Device::Cpu).unwrap();
    old.insert("visual.blocks.0.attn.qkv.weight".into(), dummy.clone());
    old.insert("lm_head.weight".into(), dummy);
    let encoder = model(old, DType::F32);
    let (tokens, _) = check_case(&encoder, &io, "right");
    assert!(tokens <= TOLERANCE, "{tokens}");

    let err = QwenTextEncoder::new(
        &config(),
        VarBuilder::from_tensors(HashMap::new(), DType::F32, &Device::Cpu),
    )
    .unwrap_err();
    assert!(err.to_string().contains("embed_tokens"), "{err}");
}

#[test]
fn bf16_stays_close_to_f32() {
    let (weights, io) = reference();
    let encoder = model(weights, DType::BF16);
    assert_eq!(encoder.dtype(), DType::BF16);
    let input_ids = ids(&io["right.input_ids"]);
    let mask = &io["right.attention_mask"];
    let got = encoder.forward(&input_ids, mask).unwrap();
    assert_eq!(got.dtype(), DType::BF16);
    let want = &io["right.hidden"];
    let diff = max_diff_where(&got, want, mask, true);
    let scale = want
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    println!("bf16: max |Δ| {diff:.2e} against f32 (largest value {scale:.2})");
    // bf16 keeps 8 bits of mantissa; two layers of rounding stay within a few percent.
    assert!(diff <= 0.05 * scale, "{diff} vs scale {scale}");
}

#[test]
fn tokenizer_from_vocab_and_merges_matches_transformers() {
    let (_, io) = reference();
    let template = String::from_utf8(io["prompt.template"].to_vec1::<u8>().unwrap()).unwrap();
    assert_eq!(
        template, LAYERED_TEMPLATE,
        "the pipeline's template changed"
    );
    let drop_idx = io["prompt.drop_idx"].to_vec1::<i64>().unwrap()[0];
    assert_eq!(
        drop_idx as usize, LAYERED_DROP_IDX,
        "the pipeline's drop_idx changed"
    );

    // The folder as the Qwen-Image repository ships it (no tokenizer.json), and tokenizer.json.
    let folder = reference_dir().join("text_encoder_tokenizer");
    let bare = tempfile::tempdir().unwrap();
    for name in ["vocab.json", "merges.txt", "tokenizer_config.json"] {
        std::fs::copy(folder.join(name), bare.path().join(name)).unwrap();
    }
    let want_ids = io["prompt.input_ids"].to_dtype(DType::U32).unwrap();
    let want_mask = io["prompt.attention_mask"].to_dtype(DType::U32).unwrap();
    for (what, dir) in [("vocab+merges", bare.path()), ("tokenizer.json", &folder)] {
        let tokenizer = load_tokenizer(dir).unwrap();
        let pad = tokenizer.token_to_id("<|endoftext|>").unwrap();
        let batch = tokenize_prompts(
            &tokenizer,
            &PromptTemplate::layered(),
            &prompts(),
            pad,
            &Device::Cpu,
        )
        .unwrap();
        assert_eq!(
            batch.input_ids.to_vec2::<u32>().unwrap(),
            want_ids.to_vec2::<u32>().unwrap(),
            "{what}"
        );
        assert_eq!(
            batch.attention_mask.to_vec2::<u32>().unwrap(),
            want_mask.to_vec2::<u32>().unwrap(),
            "{what}"
        );
    }
}

/// `PROMPTS` of the script.
fn prompts() -> Vec<&'static str> {
    vec![
        "A red apple on a wooden table, with a glass of water.",
        " ",
        "Poster: bold title text 'SALE 50%' over a blue gradient background; 3 icons.",
    ]
}

#[test]
fn prompt_embeds_match_the_pipeline() {
    let (weights, io) = reference();
    let tokenizer = load_tokenizer(&reference_dir().join("text_encoder_tokenizer")).unwrap();
    let encoder = PromptEncoder::new(model(weights, DType::F32), tokenizer);
    let (embeds, mask) = encoder.encode(&prompts()).unwrap();
    let want_mask = io["prompt.mask"].to_dtype(DType::U32).unwrap();
    assert_eq!(mask.dtype(), DType::U32);
    assert_eq!(
        mask.to_vec2::<u32>().unwrap(),
        want_mask.to_vec2::<u32>().unwrap()
    );
    let want = &io["prompt.embeds"];
    let tokens = max_diff_where(&embeds, want, &want_mask, true);
    // The pipeline pads with exact zeros; so must this.
    let padding = max_diff_where(&embeds, want, &want_mask, false);
    println!(
        "prompt embeds {:?}: max |Δ| {tokens:.2e} on tokens, {padding:.2e} on padding",
        embeds.dims()
    );
    assert!(tokens <= TOLERANCE, "{tokens}");
    assert_eq!(padding, 0.0);
}

/// A word-level tokenizer over `words` (id = index), split on whitespace: enough to check the
/// template, drop and padding logic without the real 7 MB tokenizer.
fn word_tokenizer(words: &[&str]) -> Tokenizer {
    let vocab = words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), i as u32))
        .collect();
    let model = WordLevel::builder()
        .vocab(vocab)
        .unk_token("<unk>".into())
        .build()
        .unwrap();
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.with_pre_tokenizer(Some(WhitespaceSplit));
    tokenizer
}

#[test]
fn template_drop_and_padding_logic() {
    let words = [
        "<unk>", "<pad>", "sys", "describe", "user", "end", "a", "b", "c", "d",
    ];
    let tokenizer = word_tokenizer(&words);
    let template = PromptTemplate {
        template: "sys describe user {} end".into(),
        drop_idx: 3,
    };
    assert_eq!(template.apply("a {} b"), "sys describe user a {} b end");
    assert_eq!(
        PromptTemplate::layered().apply("a cat"),
        LAYERED_TEMPLATE.replace("{}", "a cat")
    );

    let batch = tokenize_prompts(
        &tokenizer,
        &template,
        &["a b c", "d", "c a"],
        1,
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(batch.lengths, vec![7, 5, 6]);
    assert_eq!(
        batch.input_ids.to_vec2::<u32>().unwrap(),
        vec![
            vec![2, 3, 4, 6, 7, 8, 5],
            vec![2, 3, 4, 9, 5, 1, 1],
            vec![2, 3, 4, 8, 6, 5, 1],
        ]
    );
    assert_eq!(
        batch.attention_mask.to_vec2::<u32>().unwrap(),
        vec![
            vec![1, 1, 1, 1, 1, 1, 1],
            vec![1, 1, 1, 1, 1, 0, 0],
            vec![1, 1, 1, 1, 1, 1, 0],
        ]
    );

    // Hidden values that name their own (sequence, position, channel), so every selection and
    // every zero of the padding shows.
    let (b, l, h) = (3, 7, 2);
    let data: Vec<f32> = (0..b * l * h)
        .map(|i| (100 * (i / (l * h)) + 10 * ((i / h) % l) + i % h) as f32)
        .collect();
    let hidden = Tensor::from_vec(data, (b, l, h), &Device::Cpu).unwrap();
    let (embeds, mask) = drop_and_pad(&hidden, &batch.lengths, template.drop_idx).unwrap();
    assert_eq!(
        mask.to_vec2::<u32>().unwrap(),
        vec![vec![1, 1, 1, 1], vec![1, 1, 0, 0], vec![1, 1, 1, 0]]
    );
    assert_eq!(
        embeds.to_vec3::<f32>().unwrap(),
        vec![
            vec![
                vec![30., 31.],
                vec![40., 41.],
                vec![50., 51.],
                vec![60., 61.]
            ],
            vec![
                vec![130., 131.],
                vec![140., 141.],
                vec![0., 0.],
                vec![0., 0.]
            ],
            vec![
                vec![230., 231.],
                vec![240., 241.],
                vec![250., 251.],
                vec![0., 0.]
            ],
        ]
    );
    // A sequence shorter than the drop gives nothing (Python's empty slice) but the batch
    // still pads to the longest; all of them too short is an error.
    let (embeds, mask) = drop_and_pad(&hidden, &[2, 5, 7], 3).unwrap();
    assert_eq!(embeds.dims(), &[3, 4, 2]);
    assert_eq!(mask.to_vec2::<u32>().unwrap()[0], vec![0, 0, 0, 0]);
    assert!(drop_and_pad(&hidden, &[2, 3, 1], 3).is_err());
    assert!(tokenize_prompts(&tokenizer, &template, &[], 1, &Device::Cpu).is_err());
}

#[test]
fn encode_equals_each_prompt_alone() {
    // Batching pads the shorter prompts; their embeddings must not depend on it.
    let (weights, _) = reference();
    let words = [
        "<unk>", "<pad>", "sys", "describe", "user", "end", "a", "b", "c", "d",
    ];
    let template = PromptTemplate {
        template: "sys describe user {} end".into(),
        drop_idx: 3,
    };
    let encoder = PromptEncoder::new(model(weights, DType::F32), word_tokenizer(&words))
        .with_template(template);
    let prompts = ["a b c d a", "d", "c a"];
    let (embeds, mask) = encoder.encode(&prompts).unwrap();
    assert_eq!(embeds.dims(), &[3, 6, 32]);
    for (i, p) in prompts.iter().enumerate() {
        let (alone, alone_mask) = encoder.encode(&[p]).unwrap();
        let n = alone.dim(1).unwrap();
        assert_eq!(alone_mask.to_vec2::<u32>().unwrap()[0], vec![1; n]);
        let batched = embeds.i((i, ..n)).unwrap();
        let diff = (batched - alone.i(0).unwrap())
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff <= 1e-5, "prompt {i}: {diff}");
        let rest = mask.i(i).unwrap().to_vec1::<u32>().unwrap();
        assert_eq!(rest.iter().filter(|&&m| m == 1).count(), n);
    }
}

#[test]
fn config_flat_and_nested() {
    // Nested (transformers 5), as the script saves it.
    let cfg = config();
    assert_eq!(
        cfg,
        TextEncoderConfig {
            vocab_size: 448,
            hidden_size: 32,
            intermediate_size: 64,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            num_key_value_heads: 2,
            rms_norm_eps: 1e-6,
            rope_theta: 10000.0,
            mrope_section: vec![1, 1, 2],
        }
    );
    // Flat (transformers 4.x), the shape of Qwen2.5-VL-7B-Instruct's config.json.
    let flat = r#"{
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
        "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02,
        "intermediate_size": 18944, "max_position_embeddings": 128000, "max_window_layers": 28,
        "model_type": "qwen2_5_vl", "num_attention_heads": 28, "num_hidden_layers": 28,
        "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
        "sliding_window": 32768, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
        "transformers_version": "4.41.2", "use_cache": true, "use_sliding_window": false,
        "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280,
            "intermediate_size": 3420, "num_heads": 16, "in_chans": 3, "out_hidden_size": 3584,
            "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14,
            "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31],
            "tokens_per_second": 2, "temporal_patch_size": 2},
        "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "vocab_size": 152064
    }"#;
    assert_eq!(
        TextEncoderConfig::from_json(flat).unwrap(),
        TextEncoderConfig::qwen2_5_vl_7b()
    );
    // text_config wins over the top level (transformers 4.5x wrote both).
    let both = flat.replacen(
        "\"vocab_size\": 152064",
        "\"vocab_size\": 152064, \"text_config\": {\"num_hidden_layers\": 3, \
         \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 5.0, \
         \"mrope_section\": [16, 24, 24]}}",
        1,
    );
    let cfg = TextEncoderConfig::from_json(&both).unwrap();
    assert_eq!((cfg.num_hidden_layers, cfg.rope_theta), (3, 5.0));
    assert_eq!(cfg.hidden_size, 3584);

    let yarn = flat.replace("\"type\": \"mrope\"", "\"type\": \"yarn\"");
    assert!(TextEncoderConfig::from_json(&yarn).is_err());
    let bad_sections = flat.replace("[16, 24, 24]", "[16, 24, 8]");
    assert!(TextEncoderConfig::from_json(&bad_sections).is_err());
    let sliding = flat.replace(
        "\"use_sliding_window\": false",
        "\"use_sliding_window\": true",
    );
    assert!(TextEncoderConfig::from_json(&sliding).is_err());
    assert!(TextEncoderConfig::from_json("{}").is_err());
}
