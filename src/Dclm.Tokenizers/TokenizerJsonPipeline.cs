using System.Text.Json;
using Dclm.Formats;

namespace Dclm.Tokenizers;

/// <summary>
/// The normalizer, pre-tokenizer and decoder sections of a tokenizer.json, reduced to the switches
/// <see cref="TokenizerVocabulary"/> has. Recognised steps: normalizers NFC, Prepend("▁"),
/// Replace(" " → "▁") and Sequence; pre-tokenizers ByteLevel, Split (Isolated), Metaspace (no split)
/// and Sequence. The GPT-2, Llama 3 and Qwen 2 split patterns are recognised by their exact text.
/// </summary>
internal sealed class TokenizerJsonPipeline
{
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    internal const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    internal const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private bool byteLevel;
    private bool byteLevelPrefixSpace;
    private bool spaceMarker;
    private bool prependMarker;
    private readonly List<string> warnings = [];

    public TokenizerModelKind ModelKind { get; private set; }
    public PreTokenizerKind PreTokenizer { get; private set; } = PreTokenizerKind.None;
    public string? PreTokenizerPattern { get; private set; }
    public bool NormalizeToNfc { get; private set; }
    public bool AddPrefixSpace { get; private set; }
    public DummyPrefixRule DummyPrefix { get; private set; } = DummyPrefixRule.EveryFragment;

    /// <summary>What was read but does not change tokenization and is not applied (decoder steps).</summary>
    public IReadOnlyList<string> Warnings => warnings;

    public static TokenizerJsonPipeline Read(JsonElement root)
    {
        var pipeline = new TokenizerJsonPipeline();
        if (root.TryGetProperty("normalizer", out var normalizer))
        {
            pipeline.ReadNormalizer(normalizer);
        }
        if (root.TryGetProperty("pre_tokenizer", out var preTokenizer))
        {
            pipeline.ReadPreTokenizer(preTokenizer);
        }
        if (root.TryGetProperty("decoder", out var decoder))
        {
            pipeline.ReadDecoder(decoder);
        }
        if (pipeline.byteLevel && pipeline.spaceMarker)
        {
            throw new TokenizerJsonException("the pipeline mixes byte-level and '▁' space handling");
        }
        if (pipeline.byteLevel)
        {
            pipeline.ModelKind = TokenizerModelKind.ByteLevelBpe;
            pipeline.AddPrefixSpace = pipeline.byteLevelPrefixSpace;
        }
        else if (pipeline.spaceMarker)
        {
            pipeline.ModelKind = TokenizerModelKind.SentencePieceBpe;
            pipeline.AddPrefixSpace = pipeline.prependMarker;
            if (pipeline.PreTokenizer != PreTokenizerKind.None)
            {
                throw new TokenizerJsonException("a split pattern together with '▁' space handling is not supported");
            }
        }
        else
        {
            throw new TokenizerJsonException("neither a ByteLevel step nor '▁' space handling (Replace or Metaspace) was found, so the BPE style is unknown");
        }
        return pipeline;
    }

    private void ReadNormalizer(JsonElement step)
    {
        if (step.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        switch (TypeOf(step, "normalizer"))
        {
            case "Sequence":
                foreach (var inner in Children(step, "normalizers"))
                {
                    ReadNormalizer(inner);
                }
                break;
            case "NFC":
                NormalizeToNfc = true;
                break;
            case "Prepend" when TokenizerJsonLoader.OptionalString(step, "prepend") == "\u2581":
                prependMarker = true;
                spaceMarker = true;
                break;
            case "Replace" when PatternText(step) == " " && TokenizerJsonLoader.OptionalString(step, "content") == "\u2581":
                spaceMarker = true;
                break;
            case var other:
                throw new TokenizerJsonException($"normalizer '{other}' with these settings is not supported");
        }
    }

    private void ReadPreTokenizer(JsonElement step)
    {
        if (step.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        switch (TypeOf(step, "pre_tokenizer"))
        {
            case "Sequence":
                foreach (var inner in Children(step, "pretokenizers"))
                {
                    ReadPreTokenizer(inner);
                }
                break;
            case "ByteLevel":
                byteLevel = true;
                byteLevelPrefixSpace = TokenizerJsonLoader.OptionalBool(step, "add_prefix_space") ?? true;
                if (TokenizerJsonLoader.OptionalBool(step, "use_regex") ?? true)
                {
                    SetSplit(TokenizerJsonPipeline.Gpt2Pattern, isRegex: true);
                }
                break;
            case "Split":
                ReadSplit(step);
                break;
            case "Metaspace":
                if (TokenizerJsonLoader.OptionalString(step, "replacement") != "\u2581" || (TokenizerJsonLoader.OptionalBool(step, "split") ?? true))
                {
                    throw new TokenizerJsonException("pre-tokenizer 'Metaspace' is only supported with replacement '▁' and split false");
                }
                spaceMarker = true;
                string scheme = TokenizerJsonLoader.OptionalString(step, "prepend_scheme")
                    ?? ((TokenizerJsonLoader.OptionalBool(step, "add_prefix_space") ?? true) ? "always" : "never");
                prependMarker = scheme != "never";
                DummyPrefix = scheme == "first" ? DummyPrefixRule.TextStartWithoutSpace : DummyPrefixRule.EveryFragmentWithoutSpace;
                break;
            case var other:
                throw new TokenizerJsonException($"pre-tokenizer '{other}' is not supported");
        }
    }

    private void ReadSplit(JsonElement step)
    {
        string behavior = TokenizerJsonLoader.OptionalString(step, "behavior") ?? "";
        if (behavior != "Isolated" || (TokenizerJsonLoader.OptionalBool(step, "invert") ?? false))
        {
            throw new TokenizerJsonException($"pre-tokenizer 'Split' is only supported with behavior 'Isolated' and invert false (found '{behavior}')");
        }
        if (!step.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerJsonException("pre-tokenizer 'Split' has no pattern");
        }
        if (TokenizerJsonLoader.OptionalString(pattern, "Regex") is string regex)
        {
            SetSplit(regex, isRegex: true);
        }
        else if (TokenizerJsonLoader.OptionalString(pattern, "String") is string literal)
        {
            SetSplit(System.Text.RegularExpressions.Regex.Escape(literal), isRegex: false);
        }
        else
        {
            throw new TokenizerJsonException("pre-tokenizer 'Split' pattern is neither a Regex nor a String");
        }
    }

    private void SetSplit(string pattern, bool isRegex)
    {
        if (PreTokenizer != PreTokenizerKind.None)
        {
            throw new TokenizerJsonException("more than one splitting pre-tokenizer is not supported");
        }
        (PreTokenizer, PreTokenizerPattern) = pattern switch
        {
            Gpt2Pattern when isRegex => (PreTokenizerKind.Gpt2, (string?)null),
            Llama3Pattern when isRegex => (PreTokenizerKind.Llama3, null),
            Qwen2Pattern when isRegex => (PreTokenizerKind.Qwen2, null),
            _ => (PreTokenizerKind.Regex, pattern),
        };
    }

    // Decoding follows from the model kind, so the decoder changes no token: it only helps recognise the
    // style (a ByteLevel decoder means byte-level BPE). Steps that would decode differently are warned about.
    private void ReadDecoder(JsonElement step)
    {
        if (step.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (step.ValueKind != JsonValueKind.Object || TokenizerJsonLoader.OptionalString(step, "type") is not string type)
        {
            warnings.Add($"a decoder step {TokenizerJsonLoader.Shown(step)} has no \"type\"; it is ignored");
            return;
        }
        switch (type)
        {
            case "Sequence":
                if (!step.TryGetProperty("decoders", out var decoders) || decoders.ValueKind != JsonValueKind.Array)
                {
                    warnings.Add("the decoder Sequence has no \"decoders\" array; it is ignored");
                    return;
                }
                foreach (var inner in decoders.EnumerateArray())
                {
                    ReadDecoder(inner);
                }
                break;
            case "ByteLevel":
                byteLevel = true;
                break;
            case "Replace" or "ByteFallback" or "Fuse" or "Strip" or "Metaspace":
                break; // the SentencePiece-style decoding applied for '▁' vocabularies
            case "WordPiece" or "BPEDecoder" or "CTC":
                warnings.Add($"the decoder '{type}' is not applied; decoded text follows the vocabulary's byte-level or '▁' convention");
                break;
            default:
                warnings.Add($"the decoder type '{Printable.Text(type)}' is not a Hugging Face decoder; it is ignored");
                break;
        }
    }

    private static string TypeOf(JsonElement step, string section)
    {
        if (step.ValueKind != JsonValueKind.Object || TokenizerJsonLoader.OptionalString(step, "type") is not string type)
        {
            throw new TokenizerJsonException($"a {section} step has no \"type\"");
        }
        return type;
    }

    private static IEnumerable<JsonElement> Children(JsonElement step, string name)
    {
        if (!step.TryGetProperty(name, out var children) || children.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerJsonException($"a Sequence has no \"{name}\" array");
        }
        return children.EnumerateArray();
    }

    private static string? PatternText(JsonElement step) =>
        step.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
            ? TokenizerJsonLoader.OptionalString(pattern, "String")
            : null;
}
