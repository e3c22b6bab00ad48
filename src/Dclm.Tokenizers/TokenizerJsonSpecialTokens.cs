using System.Text.Json;
using Dclm.Formats;

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

    // The "single" template of a TemplateProcessing post-processor (alone or in a Sequence, as Llama 3.1 has
    // it): a special token before the sequence is the BOS that encoding adds, one after it the EOS. A
    // post-processor that adds tokens any other way is refused, since ignoring it would change the ids.
    private static (string? First, string? Last) ReadTemplate(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var processor) || processor.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }
        (string? First, string? Last)? template = null;
        ReadProcessor(processor, ref template);
        return template ?? (null, null);
    }

    private static void ReadProcessor(JsonElement processor, ref (string? First, string? Last)? template)
    {
        if (processor.ValueKind != JsonValueKind.Object || TokenizerJsonLoader.OptionalString(processor, "type") is not string type)
        {
            throw new TokenizerJsonException($"the post_processor {TokenizerJsonLoader.Shown(processor)} has no \"type\"");
        }
        switch (type)
        {
            case "ByteLevel":
                return; // trims offsets only
            case "Sequence":
                if (!processor.TryGetProperty("processors", out var processors) || processors.ValueKind != JsonValueKind.Array)
                {
                    throw new TokenizerJsonException("the post_processor Sequence has no \"processors\" array");
                }
                foreach (var inner in processors.EnumerateArray())
                {
                    ReadProcessor(inner, ref template);
                }
                return;
            case "TemplateProcessing":
                if (template is not null)
                {
                    throw new TokenizerJsonException("the post_processor holds more than one TemplateProcessing");
                }
                template = ReadSingle(processor);
                return;
            case "BertProcessing" or "RobertaProcessing":
                throw new TokenizerJsonException($"the post_processor '{type}' adds tokens around every text, which this loader does not apply");
            default:
                throw new TokenizerJsonException($"the post_processor type '{Printable.Text(type)}' is not supported");
        }
    }

    private static (string? First, string? Last) ReadSingle(JsonElement processor)
    {
        if (!processor.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerJsonException("the post_processor TemplateProcessing has no \"single\" array");
        }
        string? first = null;
        string? last = null;
        bool seenSequence = false;
        foreach (var item in single.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
            }
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var special)
                && special.ValueKind == JsonValueKind.Object && TokenizerJsonLoader.OptionalString(special, "id") is string name)
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
            else
            {
                throw new TokenizerJsonException($"the post_processor template item {TokenizerJsonLoader.Shown(item)} is neither a Sequence nor a SpecialToken with an id");
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
        token is null ? null
            : lookup.TryGetValue(token, out int id) ? id
            : throw new TokenizerJsonException($"the post_processor template adds '{Printable.Text(token)}', which is not in the vocabulary");
}
