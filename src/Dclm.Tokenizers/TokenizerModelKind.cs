namespace Dclm.Tokenizers;

/// <summary>The tokenization algorithm a vocabulary is meant for.</summary>
public enum TokenizerModelKind
{
    /// <summary>
    /// GPT-2 style byte-level BPE: text is split by a pre-tokenizer pattern, each piece's UTF-8 bytes are
    /// mapped to printable characters and merged by merge rank (GPT-2, GPT-NeoX, Llama 3, Qwen).
    /// </summary>
    ByteLevelBpe,

    /// <summary>
    /// SentencePiece style BPE: spaces become '▁', a '▁' is prepended, characters are merged by merge
    /// rank (tokenizer.json) or by piece score (GGUF, as SentencePiece does), and characters outside the
    /// vocabulary fall back to <c>&lt;0xXX&gt;</c> byte tokens (Llama 1/2, Mistral).
    /// </summary>
    SentencePieceBpe,
}
