using System.Text.Json;
using Dclm.Tokenizers;

namespace Dclm.Server.Api;

/// <summary>
/// Reads fill-in-the-middle requests into an <see cref="InfillInput"/>: llama-server's <c>/infill</c> fields and
/// OpenAI's <c>suffix</c> on <c>/v1/completions</c>. A model whose tokenizer has no FIM tokens is a 400 naming the
/// missing ones.
/// </summary>
internal static class InfillRequests
{
    /// <summary>Most files <c>input_extra</c> may hold.</summary>
    public const int MaxExtraFiles = 256;

    /// <summary>The layout's budget for a context and a generation budget (−1 unbounded): <see cref="InfillPrompt.DefaultBudget"/>.</summary>
    public static InfillBudget Budget(int contextTokens, int predictTokens) => InfillPrompt.DefaultBudget(contextTokens, predictTokens);

    /// <summary>The tokenizer's FIM tokens, or a 400 in llama-server's words naming the missing ones.</summary>
    public static FillInMiddleTokens RequireTokens(Tokenizer? tokenizer, string field)
    {
        if (tokenizer is null) throw ApiException.BadRequest("Infill is not supported by this model: it has no tokenizer, so no FIM tokens", field);
        var fim = tokenizer.FillInMiddle;
        if (fim.MissingReason() is { } reason) throw ApiException.BadRequest(reason, field);
        return fim;
    }

    /// <summary>Tokens that end an infill besides end-of-sequence (<see cref="FillInMiddleTokens.EndTokens"/>).</summary>
    public static int[] StopTokens(FillInMiddleTokens fim) => fim.EndTokens();

    /// <summary>
    /// /infill: <c>input_prefix</c> (required) and <c>input_suffix</c>, each a string or an array mixing strings and token
    /// ids; <c>input_extra</c>, an array of <c>{"filename": string, "text": string}</c> (filename optional, "tmp" by
    /// default); <c>prompt</c>, an optional string that starts the middle (its control tokens are parsed, as llama-server
    /// parses them). Text parts are tokenized without special-token parsing.
    /// </summary>
    public static InfillInput Read(InfillRequestDto dto, Tokenizer tokenizer)
    {
        if (dto.InputPrefix.ValueKind == JsonValueKind.Undefined) throw ApiException.BadRequest("\"input_prefix\" is required", "input_prefix");
        var prefix = Mixed(dto.InputPrefix, tokenizer, "input_prefix");
        var suffix = dto.InputSuffix.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? [] : Mixed(dto.InputSuffix, tokenizer, "input_suffix");
        int[] middle = dto.Prompt.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => [],
            JsonValueKind.String => tokenizer.Encode(dto.Prompt.GetString()!, parseSpecialTokens: true),
            _ => throw ApiException.BadRequest("\"prompt\" must be a string", "prompt"),
        };
        return new InfillInput(prefix, suffix, ExtraFiles(dto.InputExtra), middle);
    }

    /// <summary>/v1/completions with a suffix: the prompt (text, or ids) is the prefix; no extra files, no middle.</summary>
    public static InfillInput ForCompletion(string? promptText, int[]? promptTokens, string suffix, Tokenizer tokenizer) =>
        new(promptTokens ?? tokenizer.Encode(promptText!), tokenizer.Encode(suffix), [], []);

    private static List<int> Mixed(JsonElement value, Tokenizer tokenizer, string field)
    {
        var ids = new List<int>();
        switch (value.ValueKind)
        {
            case JsonValueKind.String: tokenizer.Encode(value.GetString()!, ids); break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String) tokenizer.Encode(item.GetString()!, ids);
                    else if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int id) && id >= 0 && id < tokenizer.VocabularySize) ids.Add(id);
                    else throw ApiException.BadRequest($"\"{field}\" must be a string or an array of strings and token ids in [0, {tokenizer.VocabularySize})", field);
                }
                break;
            default: throw ApiException.BadRequest($"\"{field}\" must be a string or an array of strings and token ids", field);
        }
        return ids;
    }

    private static List<InfillFile> ExtraFiles(JsonElement extra)
    {
        var files = new List<InfillFile>();
        if (extra.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return files;
        const string shape = "\"input_extra\" must be an array of {\"filename\": string, \"text\": string}";
        if (extra.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest(shape, "input_extra");
        if (extra.GetArrayLength() > MaxExtraFiles) throw ApiException.BadRequest($"\"input_extra\" holds {extra.GetArrayLength()} files; at most {MaxExtraFiles} are allowed", "input_extra");
        foreach (var chunk in extra.EnumerateArray())
        {
            if (chunk.ValueKind != JsonValueKind.Object || !chunk.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw ApiException.BadRequest("each \"input_extra\" chunk must contain a \"text\" field with a string value", "input_extra");
            string name = "tmp";
            if (chunk.TryGetProperty("filename", out var filename))
            {
                if (filename.ValueKind != JsonValueKind.String) throw ApiException.BadRequest("an \"input_extra\" chunk's \"filename\" field must be a string", "input_extra");
                name = filename.GetString()!;
            }
            files.Add(new InfillFile(name, text.GetString()!));
        }
        return files;
    }
}
