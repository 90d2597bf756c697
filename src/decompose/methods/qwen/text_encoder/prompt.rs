//! Prompt → text embedding as `QwenImageLayeredPipeline._get_qwen_prompt_embeds` does it: chat
//! template, Qwen2 tokenizer, language model, drop of the template's leading tokens, right
//! padding with a mask.

use std::collections::BTreeMap;
use std::path::Path;

use candle::{DType, Device, Result, Tensor};
use candle_core as candle;
use serde::Deserialize;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use super::QwenTextEncoder;

/// The system prompt and chat framing Qwen-Image-Layered wraps every prompt in
/// (`prompt_template_encode` in diffusers' `pipeline_qwenimage_layered.py`, the same as plain
/// Qwen-Image's); `{}` is replaced by the prompt.
pub const LAYERED_TEMPLATE: &str = "<|im_start|>system\nDescribe the image by detailing the \
color, shape, size, texture, quantity, text, spatial relationships of the objects and \
background:<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n";

/// Tokens of [`LAYERED_TEMPLATE`] before the prompt (`prompt_template_encode_start_idx`): with
/// the Qwen2 tokenizer the system turn and `<|im_start|>user\n` are exactly 34 tokens, and the
/// pipeline drops them from the hidden states so only the prompt and the closing turn condition
/// the image. (`use_en_prompt` only picks the captioning template, which is not this one.)
pub const LAYERED_DROP_IDX: usize = 34;

/// Qwen2's pre-tokenizer split (transformers `models/qwen2/tokenization_qwen2.py`).
const QWEN2_PRETOKENIZE_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen2's padding token; its embedding is computed but masked, so any id would do.
const PAD_TOKEN: &str = "<|endoftext|>";

/// A chat template and how many of its leading tokens the pipeline drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTemplate {
    /// The template, with one `{}` where the prompt goes.
    pub template: String,
    /// Leading tokens removed from each sequence's hidden states.
    pub drop_idx: usize,
}

impl PromptTemplate {
    /// Qwen-Image-Layered's template ([`LAYERED_TEMPLATE`], [`LAYERED_DROP_IDX`]).
    pub fn layered() -> Self {
        Self {
            template: LAYERED_TEMPLATE.to_owned(),
            drop_idx: LAYERED_DROP_IDX,
        }
    }

    /// The template with `prompt` in place of the first `{}` (Python's `template.format(prompt)`
    /// for a template with one placeholder; the prompt itself is not interpreted).
    pub fn apply(&self, prompt: &str) -> String {
        self.template.replacen("{}", prompt, 1)
    }
}

/// A right-padded batch of token ids, as the Qwen2 tokenizer pads (`padding_side="right"`).
#[derive(Debug, Clone)]
pub struct TokenBatch {
    /// `[B, L]` u32 token ids, padded with the pad token.
    pub input_ids: Tensor,
    /// `[B, L]` u32, 1 for a token, 0 for padding.
    pub attention_mask: Tensor,
    /// The unpadded length of each sequence.
    pub lengths: Vec<usize>,
}

/// Tokenizes `template.apply(p)` for every prompt and pads the batch on the right to its longest
/// sequence with `pad_id`.
pub fn tokenize_prompts(
    tokenizer: &Tokenizer,
    template: &PromptTemplate,
    prompts: &[&str],
    pad_id: u32,
    device: &Device,
) -> Result<TokenBatch> {
    if prompts.is_empty() {
        return Err(candle::Error::Msg("prompt encoder: no prompts".into()));
    }
    let ids = prompts
        .iter()
        .map(|p| {
            // add_special_tokens as transformers' `tokenizer(...)` call; Qwen2 adds none.
            tokenizer
                .encode(template.apply(p), true)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| candle::Error::Msg(format!("tokenizer: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
    let width = lengths.iter().copied().max().unwrap_or(0);
    let mut flat_ids = Vec::with_capacity(ids.len() * width);
    let mut flat_mask = Vec::with_capacity(ids.len() * width);
    for row in &ids {
        flat_ids.extend(row.iter().copied());
        flat_ids.extend(std::iter::repeat_n(pad_id, width - row.len()));
        flat_mask.extend(std::iter::repeat_n(1u32, row.len()));
        flat_mask.extend(std::iter::repeat_n(0u32, width - row.len()));
    }
    let shape = (ids.len(), width);
    Ok(TokenBatch {
        input_ids: Tensor::from_vec(flat_ids, shape, device)?,
        attention_mask: Tensor::from_vec(flat_mask, shape, device)?,
        lengths,
    })
}

/// The pipeline's post-processing of `hidden_states[-1]` (`[B, L, H]`, right padded with the
/// given unpadded `lengths`): keep each sequence's tokens `drop_idx..length`, then pad them with
/// zeros to the longest. Returns the embeddings `[B, L', H]` and a u32 mask `[B, L']` (1 for a
/// kept token). An error if every sequence is shorter than `drop_idx`, which the pipeline's own
/// template cannot produce.
pub fn drop_and_pad(
    hidden: &Tensor,
    lengths: &[usize],
    drop_idx: usize,
) -> Result<(Tensor, Tensor)> {
    let (b, l, h) = hidden.dims3()?;
    if lengths.len() != b || lengths.iter().any(|&n| n > l) {
        return Err(candle::Error::Msg(format!(
            "prompt encoder: lengths {lengths:?} do not fit hidden states {:?}",
            hidden.dims()
        )));
    }
    // Python's `e[drop_idx:]` is empty, not an error, for a shorter sequence.
    let kept: Vec<usize> = lengths
        .iter()
        .map(|&n| n.saturating_sub(drop_idx))
        .collect();
    let width = kept.iter().copied().max().unwrap_or(0);
    if width == 0 {
        return Err(candle::Error::Msg(format!(
            "prompt encoder: no tokens left after dropping the first {drop_idx}"
        )));
    }
    let mut rows = Vec::with_capacity(b);
    let mut mask = Vec::with_capacity(b * width);
    for (i, &n) in kept.iter().enumerate() {
        let mut parts = Vec::with_capacity(2);
        if n > 0 {
            parts.push(hidden.get(i)?.narrow(0, drop_idx, n)?);
        }
        if n < width {
            parts.push(Tensor::zeros(
                (width - n, h),
                hidden.dtype(),
                hidden.device(),
            )?);
        }
        rows.push(Tensor::cat(&parts, 0)?);
        mask.extend(std::iter::repeat_n(1u32, n));
        mask.extend(std::iter::repeat_n(0u32, width - n));
    }
    Ok((
        Tensor::stack(&rows, 0)?,
        Tensor::from_vec(mask, (b, width), hidden.device())?,
    ))
}

/// `added_tokens_decoder` entries of a `tokenizer_config.json`.
#[derive(Debug, Deserialize)]
struct AddedTokenEntry {
    content: String,
    #[serde(default)]
    special: bool,
    #[serde(default)]
    lstrip: bool,
    #[serde(default)]
    rstrip: bool,
    #[serde(default)]
    normalized: bool,
    #[serde(default)]
    single_word: bool,
}

#[derive(Debug, Deserialize)]
struct TokenizerConfig {
    #[serde(default)]
    added_tokens_decoder: BTreeMap<String, AddedTokenEntry>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| candle::Error::Msg(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| candle::Error::Msg(format!("{}: {e}", path.display())))
}

/// Loads the Qwen2 tokenizer from a Hugging Face `tokenizer/` folder.
///
/// `tokenizer.json` is used when present. Otherwise (the Qwen-Image repositories ship
/// `vocab.json`, `merges.txt` and `tokenizer_config.json`) it is built the way transformers'
/// `Qwen2Tokenizer` builds it: byte-level BPE without unknown token, NFC normalisation, the Qwen2
/// regex split followed by the byte-level mapping, and the added (special) tokens of
/// `tokenizer_config.json`'s `added_tokens_decoder` (or `added_tokens.json`) at their ids.
pub fn load_tokenizer(folder: &Path) -> Result<Tokenizer> {
    let err = |what: &str, e: &dyn std::fmt::Display| {
        candle::Error::Msg(format!("tokenizer in {}: {what}: {e}", folder.display()))
    };
    let json = folder.join("tokenizer.json");
    if json.is_file() {
        return Tokenizer::from_file(&json).map_err(|e| err("tokenizer.json", &e));
    }
    let (vocab, merges) = (folder.join("vocab.json"), folder.join("merges.txt"));
    let bpe = BPE::from_file(&vocab.to_string_lossy(), &merges.to_string_lossy())
        .build()
        .map_err(|e| err("vocab.json + merges.txt", &e))?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer
        .with_normalizer(Some(NFC))
        .map_err(|e| err("normalizer", &e))?;
    let split = Split::new(
        SplitPattern::Regex(QWEN2_PRETOKENIZE_REGEX.into()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(|e| err("pre-tokenizer regex", &e))?;
    // add_prefix_space false, trim_offsets true (offsets are not used), use_regex false: the
    // split above already did GPT-2's job.
    tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
        split.into(),
        ByteLevel::new(false, true, false).into(),
    ])));
    tokenizer.with_decoder(Some(ByteLevel::default()));

    // id → token, in id order, so that ids are handed out in sequence after the BPE vocabulary.
    let mut added: Vec<(u32, AddedToken)> = Vec::new();
    let config_path = folder.join("tokenizer_config.json");
    let added_path = folder.join("added_tokens.json");
    if config_path.is_file() {
        let config: TokenizerConfig = read_json(&config_path)?;
        for (id, t) in config.added_tokens_decoder {
            let id = id
                .parse::<u32>()
                .map_err(|e| err("added_tokens_decoder id", &e))?;
            let token = AddedToken::from(t.content, t.special)
                .lstrip(t.lstrip)
                .rstrip(t.rstrip)
                .normalized(t.normalized)
                .single_word(t.single_word);
            added.push((id, token));
        }
    } else if added_path.is_file() {
        let map: BTreeMap<String, u32> = read_json(&added_path)?;
        // Qwen's added tokens are all of the `<|…|>` kind and special.
        added.extend(
            map.into_iter()
                .map(|(content, id)| (id, AddedToken::from(content, true).normalized(false))),
        );
    }
    added.sort_by_key(|(id, _)| *id);
    for (id, token) in added {
        let content = token.content.clone();
        tokenizer
            .add_special_tokens([token])
            .map_err(|e| err("added tokens", &e))?;
        // The crate assigns the next free id; a gap in the file's ids would shift every later
        // token, so check rather than silently encode wrong ids.
        if tokenizer.token_to_id(&content) != Some(id) {
            return Err(err(
                "added tokens",
                &format!(
                    "`{content}` got id {:?}, the file says {id}",
                    tokenizer.token_to_id(&content)
                ),
            ));
        }
    }
    Ok(tokenizer)
}

/// Turns prompts into Qwen-Image-Layered's text conditioning: the language model plus the Qwen2
/// tokenizer and the pipeline's template.
#[derive(Debug, Clone)]
pub struct PromptEncoder {
    encoder: QwenTextEncoder,
    tokenizer: Tokenizer,
    template: PromptTemplate,
    pad_id: u32,
}

impl PromptEncoder {
    /// Combines a model and a tokenizer with the layered pipeline's template.
    pub fn new(encoder: QwenTextEncoder, tokenizer: Tokenizer) -> Self {
        let pad_id = tokenizer.token_to_id(PAD_TOKEN).unwrap_or(0);
        Self {
            encoder,
            tokenizer,
            template: PromptTemplate::layered(),
            pad_id,
        }
    }

    /// Uses another template (tests use a hand-built tokenizer whose template prefix is not 34
    /// tokens long).
    pub fn with_template(mut self, template: PromptTemplate) -> Self {
        self.template = template;
        self
    }

    /// Loads everything from a local copy of the `Qwen/Qwen-Image-Layered` repository:
    /// `text_encoder/` (config and safetensors shards) and `tokenizer/`.
    pub fn load(root: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let encoder = QwenTextEncoder::load(&root.join("text_encoder"), dtype, device)?;
        let tokenizer = load_tokenizer(&root.join("tokenizer"))?;
        Ok(Self::new(encoder, tokenizer))
    }

    /// The language model.
    pub fn encoder(&self) -> &QwenTextEncoder {
        &self.encoder
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The template in use.
    pub fn template(&self) -> &PromptTemplate {
        &self.template
    }

    /// Tokenizes the templated prompts (right padded); see [`tokenize_prompts`].
    pub fn tokenize(&self, prompts: &[&str]) -> Result<TokenBatch> {
        tokenize_prompts(
            &self.tokenizer,
            &self.template,
            prompts,
            self.pad_id,
            self.encoder.device(),
        )
    }

    /// `_get_qwen_prompt_embeds(prompts)`: embeddings `[B, L, hidden]` in the model's dtype and
    /// a u32 mask `[B, L]` (1 for a token, 0 for padding), `L` being the longest prompt's token
    /// count after the drop.
    ///
    /// `encode_prompt`'s extra steps are the caller's: truncation to `max_sequence_length`
    /// (default 512 in the layered pipeline) and the mask becoming `None` when it is all ones.
    pub fn encode(&self, prompts: &[&str]) -> Result<(Tensor, Tensor)> {
        let batch = self.tokenize(prompts)?;
        let hidden = self
            .encoder
            .forward(&batch.input_ids, &batch.attention_mask)?;
        drop_and_pad(&hidden, &batch.lengths, self.template.drop_idx)
    }
}

impl QwenTextEncoder {
    /// Loads `folder/config.json` and the language-model tensors of every
    /// `folder/*.safetensors` (converted to `dtype` on the way in), and builds the model.
    pub fn load(folder: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let cfg = super::TextEncoderConfig::from_file(&folder.join("config.json"))?;
        let vb = load_language_model_weights(folder, dtype, device)?;
        Self::new(&cfg, vb)
    }
}

/// Reads the text encoder's safetensors shards from `folder`, keeping only language-model
/// tensors (not `visual.*` / `model.visual.*` / `lm_head.*`, about 2.3 GB in the 7B checkpoint)
/// and converting each to `dtype` as it goes, so a shard's other tensors are freed before the
/// next is read.
pub fn load_language_model_weights(
    folder: &Path,
    dtype: DType,
    device: &Device,
) -> Result<candle_nn::VarBuilder<'static>> {
    let language_model = |name: &str| {
        !(name.starts_with("visual.")
            || name.starts_with("model.visual.")
            || name.starts_with("lm_head."))
    };
    let tensors = super::super::weights::shards_in(folder)
        .and_then(|shards| {
            super::super::weights::load_tensors(&shards, dtype, device, language_model)
        })
        .map_err(|e| candle::Error::Msg(e.to_string()))?;
    Ok(candle_nn::VarBuilder::from_tensors(tensors, dtype, device))
}
