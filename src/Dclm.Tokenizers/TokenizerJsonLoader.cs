using System.IO.Compression;
using System.Text.Json;
using Dclm.Formats;

namespace Dclm.Tokenizers;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> with a BPE model into a <see cref="TokenizerVocabulary"/>:
/// the vocabulary and merges (as "a b" strings or [a, b] pairs), added tokens, and the normalizer and
/// pre-tokenizer steps used by GPT-2/NeoX/Llama 3/Qwen (byte-level) and Llama 2 (SentencePiece style).
/// A <c>tokenizer_config.json</c> beside the file, when present, supplies the BOS/EOS/PAD tokens and
/// the add-BOS/EOS switches. Files ending in <c>.gz</c> are decompressed.
/// </summary>
/// <remarks>
/// Unsupported pipeline steps (Unigram or WordPiece models, lowercasing, BERT pre-tokenizers, ...) are
/// rejected with an error rather than approximated, because a silently different split is worse than
/// none: so are post-processors that add tokens this loader does not (Bert, Roberta), added tokens with
/// single_word, and flags or types of the wrong JSON kind. Steps that only affect decoding and that this
/// loader does not apply (a WordPiece decoder, an unknown decoder type) are accepted with a warning in
/// <see cref="TokenizerVocabulary.Warnings"/>. Added tokens' lstrip/rstrip options are applied.
/// </remarks>
public static class TokenizerJsonLoader
{
    private const int LargestAcceptedId = 16 * 1024 * 1024;

    /// <summary>Reads and validates <paramref name="path"/>; problems throw <see cref="ModelFileException"/> naming the file.</summary>
    public static TokenizerVocabulary Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json = ReadText(path);
        string? configuration = null;
        string configurationPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "tokenizer_config.json");
        if (File.Exists(configurationPath))
        {
            configuration = ReadText(configurationPath);
        }
        return Parse(json, path, configuration, configurationPath);
    }

    /// <summary>
    /// Parses tokenizer.json text; <paramref name="sourceName"/> names it in errors.
    /// <paramref name="tokenizerConfigurationJson"/> is the optional tokenizer_config.json text.
    /// </summary>
    public static TokenizerVocabulary Parse(string json, string sourceName, string? tokenizerConfigurationJson = null, string configurationName = "tokenizer_config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(sourceName);
        using var document = ParseDocument(json, sourceName);
        using var configuration = tokenizerConfigurationJson is null ? null : ParseDocument(tokenizerConfigurationJson, configurationName);
        try
        {
            return Build(document.RootElement, configuration?.RootElement);
        }
        catch (TokenizerJsonException problem)
        {
            throw new ModelFileException(problem.InConfiguration ? configurationName : sourceName, problem.Message);
        }
        catch (InvalidOperationException error)
        {
            // JsonElement accessors throw this when a value has an unexpected JSON kind.
            throw new ModelFileException(sourceName, $"unexpected JSON value: {error.Message}");
        }
    }

    private static TokenizerVocabulary Build(JsonElement root, JsonElement? configuration)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerJsonException("the top level is not a JSON object");
        }
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerJsonException("there is no \"model\" object");
        }
        // Hugging Face infers the model from its fields when "type" is absent; a type that is present must be a name.
        if (model.TryGetProperty("type", out var typeValue) && typeValue.ValueKind != JsonValueKind.String)
        {
            throw new TokenizerJsonException($"the model's \"type\" is {Shown(typeValue)}, expected a string such as \"BPE\"");
        }
        string modelType = OptionalString(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "(none)");
        if (modelType != "BPE")
        {
            throw new TokenizerJsonException($"model type '{Printable.Text(modelType)}' is not supported (only BPE)");
        }
        RejectSubwordAffix(model, "continuing_subword_prefix");
        RejectSubwordAffix(model, "end_of_word_suffix");

        var pipeline = TokenizerJsonPipeline.Read(root);
        bool byteFallback = OptionalBool(model, "byte_fallback") ?? false;
        string? unknownToken = OptionalString(model, "unk_token");
        var (tokens, types) = ReadTokens(root, model, unknownToken, byteFallback && pipeline.ModelKind == TokenizerModelKind.SentencePieceBpe);
        var lookup = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
        {
            lookup.TryAdd(tokens[id], id);
        }
        var specials = TokenizerJsonSpecialTokens.Read(root, configuration, lookup, unknownToken);

        return new TokenizerVocabulary
        {
            ModelKind = pipeline.ModelKind,
            Tokens = tokens,
            TokenTypes = types,
            Merges = ReadMerges(model),
            AddedTokenStrips = ReadAddedTokenStrips(root),
            PreTokenizer = pipeline.PreTokenizer,
            PreTokenizerPattern = pipeline.PreTokenizerPattern,
            Warnings = pipeline.Warnings,
            NormalizeToNfc = pipeline.NormalizeToNfc,
            AddPrefixSpace = pipeline.AddPrefixSpace,
            DummyPrefix = pipeline.DummyPrefix,
            IgnoreMerges = OptionalBool(model, "ignore_merges") ?? false,
            ByteFallback = byteFallback,
            UnknownId = specials.UnknownId,
            BeginningOfSequenceId = specials.BeginningOfSequenceId,
            EndOfSequenceId = specials.EndOfSequenceId,
            PaddingId = specials.PaddingId,
            AddBeginningOfSequence = specials.AddBeginningOfSequence,
            AddEndOfSequence = specials.AddEndOfSequence,
        };
    }

    private static (string[] Tokens, TokenType[] Types) ReadTokens(JsonElement root, JsonElement model, string? unknownToken, bool markByteTokens)
    {
        if (!model.TryGetProperty("vocab", out var vocabulary) || vocabulary.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerJsonException("the model has no \"vocab\" object");
        }
        var entries = new List<(int Id, string Text, bool Added, bool Special)>();
        foreach (var property in vocabulary.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out int id))
            {
                throw new TokenizerJsonException($"vocabulary entry '{property.Name}' has the id {property.Value.GetRawText()}, not an integer");
            }
            entries.Add((id, property.Name, false, false));
        }
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (var token in added.EnumerateArray())
            {
                if (token.ValueKind != JsonValueKind.Object || !token.TryGetProperty("id", out var idValue)
                    || idValue.ValueKind != JsonValueKind.Number || !idValue.TryGetInt32(out int id)
                    || OptionalString(token, "content") is not string content)
                {
                    throw new TokenizerJsonException($"added token {index} needs an integer \"id\" and a string \"content\"");
                }
                CheckAddedTokenFlags(token, index, content);
                entries.Add((id, content, true, OptionalBool(token, "special") ?? false));
                index++;
            }
        }

        int largest = -1;
        foreach (var entry in entries)
        {
            if (entry.Id < 0 || entry.Id > LargestAcceptedId)
            {
                throw new TokenizerJsonException($"token '{entry.Text}' has the id {entry.Id}, which is out of range");
            }
            largest = Math.Max(largest, entry.Id);
        }
        if (largest < 0)
        {
            throw new TokenizerJsonException("the vocabulary is empty");
        }
        if (largest >= entries.Count)
        {
            // Ids must be dense 0..n-1; checking before allocating keeps a lying id from costing memory.
            throw new TokenizerJsonException($"the id {largest} is out of range for a vocabulary of {entries.Count} entries");
        }
        var tokens = new string?[largest + 1];
        var types = new TokenType[largest + 1];
        foreach (var (id, text, isAdded, special) in entries)
        {
            if (tokens[id] is string existing)
            {
                if (!isAdded)
                {
                    throw new TokenizerJsonException($"the id {id} is used twice in the vocabulary ('{existing}' and '{text}')");
                }
                if (existing != text)
                {
                    throw new TokenizerJsonException($"added token '{text}' has the id {id}, which the vocabulary gives to '{existing}'");
                }
            }
            tokens[id] = text;
            types[id] = !isAdded ? TokenType.Normal
                : text == unknownToken ? TokenType.Unknown
                : special ? TokenType.Control
                : TokenType.UserDefined;
        }
        for (int id = 0; id < tokens.Length; id++)
        {
            if (tokens[id] is null)
            {
                throw new TokenizerJsonException($"the ids are not contiguous: id {id} is missing (the largest id is {largest})");
            }
            if (types[id] == TokenType.Normal && tokens[id] == unknownToken)
            {
                types[id] = TokenType.Unknown;
            }
            else if (types[id] == TokenType.Normal && markByteTokens && IsByteToken(tokens[id]!))
            {
                types[id] = TokenType.Byte;
            }
        }
        return (tokens.Select(token => token!).ToArray(), types);
    }

    // Each flag decides where the token matches or how it is treated, so one that is not a boolean would
    // change tokenization (Hugging Face refuses such a file too). single_word is not applied here, so a
    // token that sets it is refused rather than matched in places the reference would not match it.
    private static void CheckAddedTokenFlags(JsonElement token, int index, string content)
    {
        foreach (string flag in AddedTokenFlags)
        {
            if (token.TryGetProperty(flag, out var value) && value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new TokenizerJsonException($"added token {index} ('{Printable.Text(content)}') has \"{flag}\": {Shown(value)}, expected true or false");
            }
        }
        if (OptionalBool(token, "single_word") == true)
        {
            throw new TokenizerJsonException($"added token {index} ('{Printable.Text(content)}') sets single_word, which is not supported");
        }
    }

    private static readonly string[] AddedTokenFlags = ["special", "lstrip", "rstrip", "normalized", "single_word"];

    /// <summary>A JSON value as it appears in the file, shortened for an error message.</summary>
    internal static string Shown(JsonElement value) => Printable.Text(value.GetRawText());

    // The added tokens' lstrip/rstrip options (already validated by ReadTokens). single_word is refused there.
    private static Dictionary<int, AddedTokenStrip> ReadAddedTokenStrips(JsonElement root)
    {
        var strips = new Dictionary<int, AddedTokenStrip>();
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                var strip = ((OptionalBool(token, "lstrip") ?? false) ? AddedTokenStrip.Left : AddedTokenStrip.None)
                    | ((OptionalBool(token, "rstrip") ?? false) ? AddedTokenStrip.Right : AddedTokenStrip.None);
                if (strip != AddedTokenStrip.None)
                {
                    strips[token.GetProperty("id").GetInt32()] = strip;
                }
            }
        }
        return strips;
    }

    private static MergePair[] ReadMerges(JsonElement model)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (merges.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerJsonException("the model's \"merges\" is not an array");
        }
        var result = new MergePair[merges.GetArrayLength()];
        int rank = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                string line = merge.GetString()!;
                int space = line.IndexOf(' ', 1 < line.Length ? 1 : 0);
                if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                {
                    throw new TokenizerJsonException($"merge {rank} '{line}' is not two pieces separated by one space");
                }
                result[rank] = new MergePair(line[..space], line[(space + 1)..]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                result[rank] = new MergePair(merge[0].GetString()!, merge[1].GetString()!);
            }
            else
            {
                throw new TokenizerJsonException($"merge {rank} is {merge.GetRawText()}, not \"a b\" or [\"a\", \"b\"]");
            }
            rank++;
        }
        return result;
    }

    private static bool IsByteToken(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>' && Uri.IsHexDigit(text[3]) && Uri.IsHexDigit(text[4]);

    private static void RejectSubwordAffix(JsonElement model, string name)
    {
        if (OptionalString(model, name) is { Length: > 0 } value)
        {
            throw new TokenizerJsonException($"the model's {name} '{value}' is not supported");
        }
    }

    internal static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static bool? OptionalBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    private static JsonDocument ParseDocument(string json, string sourceName)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException error)
        {
            throw new ModelFileException(sourceName, $"is not valid JSON: {error.Message}", error);
        }
    }

    private static string ReadText(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using Stream content = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
            using var reader = new StreamReader(content, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new ModelFileException(path, $"cannot be read: {error.Message}", error);
        }
    }
}

/// <summary>A problem found while interpreting tokenizer JSON; the loader adds the file name.</summary>
internal sealed class TokenizerJsonException(string problem, bool inConfiguration = false) : Exception(problem)
{
    public bool InConfiguration { get; } = inConfiguration;
}
