namespace Dclm.Tokenizers;

/// <summary>
/// Everything that defines a tokenizer, read once from a tokenizer.json or GGUF metadata: the pieces
/// and their roles, scores or merge rules, and the few switches that select the text pipeline.
/// <see cref="Tokenizer"/> validates it on construction (see <see cref="FindProblem"/>).
/// </summary>
public sealed class TokenizerVocabulary
{
    private static readonly IReadOnlyDictionary<int, AddedTokenStrip> noStrips = new Dictionary<int, AddedTokenStrip>();

    /// <summary>Which BPE algorithm the pieces belong to.</summary>
    public required TokenizerModelKind ModelKind { get; init; }

    /// <summary>The piece text of every id (byte-level pieces are in GPT-2's printable byte alphabet).</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary>The role of every id; same length as <see cref="Tokens"/>.</summary>
    public required IReadOnlyList<TokenType> TokenTypes { get; init; }

    /// <summary>
    /// Per-id scores (SentencePiece log probabilities); empty when the source has none. Score-ordered
    /// merging needs them when <see cref="Merges"/> is empty.
    /// </summary>
    public IReadOnlyList<float> Scores { get; init; } = [];

    /// <summary>Merge rules in priority order; empty for a SentencePiece vocabulary merged by score.</summary>
    public IReadOnlyList<MergePair> Merges { get; init; } = [];

    /// <summary>Added tokens that absorb neighbouring whitespace when matched in text, by id (usually empty).</summary>
    public IReadOnlyDictionary<int, AddedTokenStrip> AddedTokenStrips { get; init; } = noStrips;

    /// <summary>How byte-level text is split before merging (ignored for SentencePiece).</summary>
    public PreTokenizerKind PreTokenizer { get; init; } = PreTokenizerKind.Gpt2;

    /// <summary>The regular expression when <see cref="PreTokenizer"/> is <see cref="PreTokenizerKind.Regex"/>.</summary>
    public string? PreTokenizerPattern { get; init; }

    /// <summary>
    /// What the loader read but does not apply, one line each, none of which changes tokenization (a
    /// tokenizer.json decoder step decoding follows other rules for, for example). Hosts print them.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Apply Unicode NFC normalization to text before tokenizing (GPT-NeoX and Qwen tokenizer.json do).</summary>
    public bool NormalizeToNfc { get; init; }

    /// <summary>
    /// SentencePiece: prepend '▁' to each text fragment (the "dummy prefix"), and drop one leading space when
    /// decoding. Byte-level: prepend a space to text that does not start with one.
    /// </summary>
    public bool AddPrefixSpace { get; init; }

    /// <summary>SentencePiece: which fragments get the '▁' of <see cref="AddPrefixSpace"/>.</summary>
    public DummyPrefixRule DummyPrefix { get; init; } = DummyPrefixRule.EveryFragment;

    /// <summary>A whole pre-tokenized piece that is itself a token is emitted without merging (Llama 3).</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>Characters outside the vocabulary become <c>&lt;0xXX&gt;</c> byte tokens rather than the unknown token.</summary>
    public bool ByteFallback { get; init; }

    /// <summary>The unknown-token id, if the vocabulary has one.</summary>
    public int? UnknownId { get; init; }

    /// <summary>The beginning-of-sequence id, if known.</summary>
    public int? BeginningOfSequenceId { get; init; }

    /// <summary>The end-of-sequence id, if known.</summary>
    public int? EndOfSequenceId { get; init; }

    /// <summary>The padding id, if known.</summary>
    public int? PaddingId { get; init; }

    /// <summary>Fill-in-the-middle ids the source records (GGUF <c>tokenizer.ggml.fim_*_token_id</c>); null when it records none.</summary>
    public FillInMiddleTokens? FillInMiddle { get; init; }

    /// <summary>Whether encoding with special tokens puts <see cref="BeginningOfSequenceId"/> first.</summary>
    public bool AddBeginningOfSequence { get; init; }

    /// <summary>Whether encoding with special tokens puts <see cref="EndOfSequenceId"/> last.</summary>
    public bool AddEndOfSequence { get; init; }

    /// <summary>
    /// Returns a copy extended to <paramref name="size"/> ids with user-defined "[PAD&lt;id&gt;]" tokens, the way
    /// llama.cpp's converter fills a model's embedding rows beyond the tokenizer (DCLM-7B has 50432 rows for
    /// GPT-NeoX's 50277 tokens). A vocabulary already that large is returned unchanged.
    /// </summary>
    public TokenizerVocabulary PadTo(int size)
    {
        if (size <= Tokens.Count)
        {
            return this;
        }
        var tokens = Tokens.ToList();
        var types = TokenTypes.ToList();
        var scores = Scores.Count == 0 ? new List<float>() : Scores.ToList();
        for (int id = Tokens.Count; id < size; id++)
        {
            tokens.Add($"[PAD{id}]");
            types.Add(TokenType.Control); // never matched in plain text, skipped when decoding skips special tokens
            if (scores.Count > 0)
            {
                scores.Add(0f);
            }
        }
        return new TokenizerVocabulary
        {
            ModelKind = ModelKind,
            Tokens = tokens,
            TokenTypes = types,
            Scores = scores,
            Merges = Merges,
            AddedTokenStrips = AddedTokenStrips,
            PreTokenizer = PreTokenizer,
            PreTokenizerPattern = PreTokenizerPattern,
            Warnings = Warnings,
            NormalizeToNfc = NormalizeToNfc,
            AddPrefixSpace = AddPrefixSpace,
            DummyPrefix = DummyPrefix,
            IgnoreMerges = IgnoreMerges,
            ByteFallback = ByteFallback,
            UnknownId = UnknownId,
            BeginningOfSequenceId = BeginningOfSequenceId,
            EndOfSequenceId = EndOfSequenceId,
            PaddingId = PaddingId,
            FillInMiddle = FillInMiddle,
            AddBeginningOfSequence = AddBeginningOfSequence,
            AddEndOfSequence = AddEndOfSequence,
        };
    }

    /// <summary>
    /// Describes the first inconsistency found in one line (lengths that disagree, ids out of range,
    /// merges naming unknown pieces, a missing pattern), or returns null when the vocabulary is usable.
    /// </summary>
    public string? FindProblem()
    {
        if (Tokens is null || TokenTypes is null || Scores is null || Merges is null || AddedTokenStrips is null)
        {
            return "the token list, token types, scores, merges and added-token strips must not be null";
        }
        int count = Tokens.Count;
        if (count == 0)
        {
            return "the vocabulary is empty";
        }
        if (TokenTypes.Count != count)
        {
            return $"there are {count} tokens but {TokenTypes.Count} token types";
        }
        if (Scores.Count != 0 && Scores.Count != count)
        {
            return $"there are {count} tokens but {Scores.Count} scores";
        }
        for (int id = 0; id < count; id++)
        {
            if (Tokens[id] is null)
            {
                return $"token {id} has no text";
            }
            if (!Enum.IsDefined(TokenTypes[id]))
            {
                return $"token {id} has the unknown type {(int)TokenTypes[id]}";
            }
        }
        foreach (var (name, id) in new[] { ("unknown", UnknownId), ("beginning-of-sequence", BeginningOfSequenceId), ("end-of-sequence", EndOfSequenceId), ("padding", PaddingId) })
        {
            if (id is int value && (value < 0 || value >= count))
            {
                return $"the {name} id {value} is outside the vocabulary of {count} tokens";
            }
        }
        foreach (var (role, id) in (FillInMiddle ?? FillInMiddleTokens.None).Declared())
        {
            if (id < 0 || id >= count)
            {
                return $"the fill-in-the-middle {role} id {id} is outside the vocabulary of {count} tokens";
            }
        }
        foreach (int id in AddedTokenStrips.Keys)
        {
            if (id < 0 || id >= count || TokenTypes[id] is not (TokenType.Control or TokenType.UserDefined or TokenType.Unknown))
            {
                return $"whitespace stripping is set for id {id}, which is not an added token";
            }
        }
        if (AddBeginningOfSequence && BeginningOfSequenceId is null)
        {
            return "a beginning-of-sequence token is to be added but none is defined";
        }
        if (AddEndOfSequence && EndOfSequenceId is null)
        {
            return "an end-of-sequence token is to be added but none is defined";
        }
        if (ModelKind == TokenizerModelKind.SentencePieceBpe && Merges.Count == 0 && Scores.Count == 0)
        {
            return "a SentencePiece vocabulary needs either merge rules or piece scores";
        }
        if (ModelKind == TokenizerModelKind.ByteLevelBpe && Merges.Count == 0 && count > 256)
        {
            return "a byte-level BPE vocabulary has no merge rules";
        }
        if (PreTokenizer == PreTokenizerKind.Regex && string.IsNullOrEmpty(PreTokenizerPattern))
        {
            return "the pre-tokenizer is a regular expression but no pattern is given";
        }
        return null;
    }
}
