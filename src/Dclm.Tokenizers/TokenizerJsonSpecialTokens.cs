using System.Text.Json;

namespace Dclm.Tokenizers;

/// <summary>
/// Finds the BOS/EOS/PAD/UNK ids and whether BOS/EOS are added. tokenizer.json alone only shows them
/// through its TemplateProcessing post-processor; tokenizer_config.json, when present, names them
/// directly (as a string or as an object with "content") and its add_bos_token/add_eos_token win.
/// </summary>
internal sealed record TokenizerJsonSpecialTokens(
    int? UnknownId,
    int? BeginningOfSequenceId,
    int? EndOfSequenceId,
    int? PaddingId,
    bool AddBeginningOfSequence,
    bool AddEndOfSequence)
{
    public static TokenizerJsonSpecialTokens Read(JsonElement root, JsonElement? configuration, Dictionary<string, int> lookup, string? unknownToken)
    {
        var (templateFirst, templateLast) = ReadTemplate(root);
        int? unknown = unknownToken is not null && lookup.TryGetValue(unknownToken, out int unknownId) ? unknownId : null;
        int? bos = Resolve(templateFirst, lookup);
        int? eos = Resolve(templateLast, lookup);
        int? pad = null;
        bool addBos = bos is not null;
        bool addEos = eos is not null;

        if (configuration is JsonElement config && config.ValueKind == JsonValueKind.Object)
        {
            bos = ConfiguredId(config, "bos_token", lookup) ?? bos;
            eos = ConfiguredId(config, "eos_token", lookup) ?? eos;
            pad = ConfiguredId(config, "pad_token", lookup);
            unknown = ConfiguredId(config, "unk_token", lookup) ?? unknown;
            addBos = TokenizerJsonLoader.OptionalBool(config, "add_bos_token") ?? addBos;
            addEos = TokenizerJsonLoader.OptionalBool(config, "add_eos_token") ?? addEos;
        }
        return new TokenizerJsonSpecialTokens(unknown, bos, eos, pad, addBos && bos is not null, addEos && eos is not null);
    }

    // The "single" template of a TemplateProcessing post-processor: a special token before the
    // sequence is the BOS that encoding adds, one after it the EOS.
    private static (string? First, string? Last) ReadTemplate(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var processor) || processor.ValueKind != JsonValueKind.Object
            || TokenizerJsonLoader.OptionalString(processor, "type") != "TemplateProcessing"
            || !processor.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
        {
            return (null, null);
        }
        string? first = null;
        string? last = null;
        bool seenSequence = false;
        foreach (var item in single.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            if (item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
            }
            else if (item.TryGetProperty("SpecialToken", out var special) && TokenizerJsonLoader.OptionalString(special, "id") is string name)
            {
                if (seenSequence)
                {
                    last = name;
                }
                else
                {
                    first = name;
                }
            }
        }
        return (first, last);
    }

    private static int? ConfiguredId(JsonElement config, string name, Dictionary<string, int> lookup)
    {
        if (!config.TryGetProperty(name, out var value))
        {
            return null;
        }
        string? text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => TokenizerJsonLoader.OptionalString(value, "content"),
            _ => null,
        };
        if (text is null)
        {
            return null;
        }
        return lookup.TryGetValue(text, out int id)
            ? id
            : throw new TokenizerJsonException($"{name} '{text}' is not in the vocabulary", inConfiguration: true);
    }

    private static int? Resolve(string? token, Dictionary<string, int> lookup) =>
        token is not null && lookup.TryGetValue(token, out int id) ? id : null;
}
