using System.Text.Json;
using Dclm.Chat;
using Dclm.Inference;
using Dclm.Inference.Constraints;

namespace Dclm.Server.Api;

/// <summary>Checks the fields of a request DTO and turns them into engine inputs, naming the field at fault.</summary>
internal static class RequestValidator
{
    public const int MaxStopStrings = 4;
    public const int MaxStopLength = 256;
    public const int MaxMessages = 1024;

    /// <summary>Most choices (OpenAI's n) one request may ask for; each is a sequence of its own.</summary>
    public const int MaxChoices = 16;

    /// <summary>Most alternatives per token of the legacy completions API's logprobs.</summary>
    public const int MaxCompletionLogprobs = 5;

    /// <summary>
    /// Completions' logprobs: an integer in [0, 5] (alternatives per token), or −1 when absent. With echo,
    /// the prompt's tokens are scored too (the first gets null).
    /// </summary>
    public static int CompletionLogprobs(CompletionRequestDto dto)
    {
        if (dto.Logprobs.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return -1;
        if (dto.Logprobs.ValueKind != JsonValueKind.Number || !dto.Logprobs.TryGetInt32(out int top) || top is < 0 or > MaxCompletionLogprobs)
            throw ApiException.BadRequest($"logprobs must be an integer in [0, {MaxCompletionLogprobs}]", "logprobs");
        return top;
    }

    /// <summary>Chat's logprobs (a boolean) and top_logprobs ([0, 20], only with logprobs): alternatives per token, or −1 when off.</summary>
    public static int ChatLogprobs(ChatRequestDto dto)
    {
        bool on = dto.Logprobs.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Undefined or JsonValueKind.Null => false,
            _ => throw ApiException.BadRequest("logprobs must be true or false", "logprobs"),
        };
        if (!on)
        {
            if (dto.TopLogprobs is not null) throw ApiException.BadRequest("top_logprobs needs logprobs: true", "top_logprobs");
            return -1;
        }
        int top = dto.TopLogprobs ?? 0;
        if (top is < 0 or > TokenLogprobs.MaxTop) throw ApiException.BadRequest($"top_logprobs = {top} must be in [0, {TokenLogprobs.MaxTop}]", "top_logprobs");
        return top;
    }

    /// <summary>
    /// OpenAI's <c>response_format</c>: "text" (the default; returns null), "json_object" (JSON mode: any JSON
    /// object) or "json_schema" (structured outputs: <c>json_schema.schema</c> compiled into a grammar; a schema
    /// using keywords the grammar would not enforce is a 400 naming the keyword). The sampler enforces either.
    /// </summary>
    public static ResponseShape? ResponseFormat(ChatRequestDto dto)
    {
        if (dto.ResponseFormat.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return null;
        string? type = dto.ResponseFormat.ValueKind == JsonValueKind.Object && dto.ResponseFormat.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "text": return null;
            case "json_object": return new ResponseShape(null);
            case "json_schema":
                if (!dto.ResponseFormat.TryGetProperty("json_schema", out var wrapper) || wrapper.ValueKind != JsonValueKind.Object
                    || !wrapper.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                    throw ApiException.BadRequest("response_format json_schema needs json_schema.schema, a JSON Schema object", "response_format");
                try { return new ResponseShape(JsonSchemaProgram.Compile(schema)); }
                catch (ArgumentException e) { throw ApiException.BadRequest($"response_format json_schema: {e.Message}", "response_format"); }
            case null: throw ApiException.BadRequest("response_format must be an object with a type", "response_format");
            default: throw ApiException.BadRequest($"response_format '{Shorten(type)}' is not supported; use 'text', 'json_object' or 'json_schema'", "response_format");
        }
    }

    /// <summary>
    /// Whether a reasoning model's thinking goes to <c>reasoning_content</c>: llama.cpp's <c>reasoning_format</c>,
    /// "auto" or "deepseek" (the default) split it off, "none" leaves it in the content.
    /// </summary>
    public static bool SplitReasoning(ChatRequestDto dto) => dto.ReasoningFormat switch
    {
        null or "auto" or "deepseek" => true,
        "none" => false,
        _ => throw ApiException.BadRequest($"reasoning_format '{Shorten(dto.ReasoningFormat)}' must be auto, deepseek or none", "reasoning_format"),
    };

    /// <summary>Refuses completion features the server does not have: <c>best_of</c> above 1, and echo with a suffix (an insertion has no single text to echo).</summary>
    public static void Unsupported(CompletionRequestDto dto)
    {
        if (dto.Suffix is not null && dto.Echo) throw ApiException.BadRequest("echo cannot be combined with suffix: an insertion is not a continuation of the prompt", "echo");
        if (dto.BestOf is int bestOf && bestOf != 1) throw ApiException.BadRequest($"best_of = {bestOf} is not supported; only 1 (use n for several choices)", "best_of");
    }

    /// <summary>How many choices the request wants: n, 1 by default.</summary>
    public static int Choices(SamplingDto dto)
    {
        int n = dto.N ?? 1;
        if (n is < 1 or > MaxChoices) throw ApiException.BadRequest($"n = {n} must be in [1, {MaxChoices}]", "n");
        return n;
    }

    /// <summary>
    /// Sampling options from the shared fields, with OpenAI's defaults; <paramref name="maxTokens"/> is the already-chosen
    /// token budget. The ranges are <see cref="SamplingOptions"/>' own (one set for every caller); a value outside them is a
    /// 400 naming its field.
    /// </summary>
    public static SamplingOptions Sampling(SamplingDto dto, int maxTokens)
    {
        try
        {
            return new SamplingOptions
            {
                Temperature = dto.Temperature ?? 1f, TopP = dto.TopP ?? 1f, TopK = dto.TopK ?? 0, MinP = dto.MinP ?? 0f,
                RepetitionPenalty = dto.RepetitionPenalty ?? 1f, FrequencyPenalty = dto.FrequencyPenalty ?? 0f, PresencePenalty = dto.PresencePenalty ?? 0f,
                Seed = dto.Seed is long seed ? unchecked((ulong)seed) : (ulong)Random.Shared.NextInt64(),
                MaxTokens = maxTokens, StopStrings = StopStrings(dto.Stop), LogitBias = LogitBias(dto.LogitBias),
            };
        }
        catch (Dclm.Inference.Engine.RequestValidationException e) { throw ApiException.BadRequest(e.Message, e.Field); }
    }

    /// <summary>
    /// OpenAI's logit_bias: an object from token ids (as strings) to numbers. Reading stops one entry past the most a request
    /// may bias, so a hostile object costs no more than that; the count and the ranges are <see cref="SamplingOptions"/>' to check.
    /// </summary>
    private static Dictionary<int, float> LogitBias(JsonElement bias)
    {
        var result = new Dictionary<int, float>();
        if (bias.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return result;
        if (bias.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("logit_bias must be an object from token ids to biases", "logit_bias");
        foreach (var entry in bias.EnumerateObject())
        {
            if (result.Count > SamplingOptions.MaxLogitBiases) break;
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                throw ApiException.BadRequest($"logit_bias key '{Shorten(entry.Name)}' is not a token id", "logit_bias");
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out double value))
                throw ApiException.BadRequest($"logit_bias for token {id} must be a number in [-100, 100]", "logit_bias");
            // Out of float's range becomes infinite, which the options refuse.
            result[id] = (float)value;
        }
        return result;
    }

    private static string Shorten(string text) => text.Length <= 32 ? text : text[..32] + "…";

    /// <summary>The token budget: the request's max_tokens, checked against the context left after the prompt.</summary>
    /// <paramref name="least"/> is 0 where a request may only score its prompt (completions with echo).
    public static int MaxTokens(int? requested, int promptTokens, int context, int fallback, string field = "max_tokens", int least = 1)
    {
        int left = context - promptTokens;
        if (requested == 0 && least == 0 && left >= 0) return 0;
        if (left <= 0) throw ApiException.BadRequest($"the prompt has {promptTokens} tokens; the context holds {context}, so no room is left to generate", "messages");
        if (requested is not int value) return Math.Min(fallback, left);
        if (value < least) throw ApiException.BadRequest($"{field} = {value} must be at least {least}", field);
        if (value > left) throw ApiException.BadRequest($"the prompt's {promptTokens} tokens plus {field} = {value} exceed the context of {context} tokens", field);
        return value;
    }

    private static IReadOnlyList<string> StopStrings(JsonElement stop)
    {
        var list = new List<string>();
        switch (stop.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null: return list;
            case JsonValueKind.String: list.Add(stop.GetString()!); break;
            case JsonValueKind.Array:
                foreach (var item in stop.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String) throw ApiException.BadRequest("stop must be a string or an array of strings", "stop");
                    list.Add(item.GetString()!);
                }
                break;
            default: throw ApiException.BadRequest("stop must be a string or an array of strings", "stop");
        }
        if (list.Count > MaxStopStrings) throw ApiException.BadRequest($"stop holds {list.Count} strings; at most {MaxStopStrings} are allowed", "stop");
        if (list.Any(s => s.Length == 0 || s.Length > MaxStopLength)) throw ApiException.BadRequest($"each stop string must hold 1 to {MaxStopLength} characters", "stop");
        return list;
    }

    /// <summary>A completion prompt: a non-empty string, an array holding one, or a non-empty array of token ids.</summary>
    /// <param name="prompt">The request's prompt field.</param>
    /// <param name="allowEmptyText">Whether "" is accepted (it is for /tokenize, which answers []).</param>
    public static (string? Text, int[]? Tokens) Prompt(JsonElement prompt, bool allowEmptyText = false)
    {
        string Text(string text) => allowEmptyText ? text : NonEmpty(text);
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String: return (Text(prompt.GetString()!), null);
            case JsonValueKind.Array:
            {
                int count = prompt.GetArrayLength();
                if (count == 0) throw ApiException.BadRequest("prompt must not be empty", "prompt");
                var first = prompt[0];
                if (first.ValueKind == JsonValueKind.String)
                {
                    if (count != 1) throw ApiException.BadRequest("only one prompt per request is supported", "prompt");
                    return (Text(first.GetString()!), null);
                }
                var tokens = new int[count];
                int i = 0;
                foreach (var item in prompt.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out tokens[i++]))
                        throw ApiException.BadRequest("prompt must be a string, an array of one string, or an array of integer token ids", "prompt");
                }
                return (null, tokens);
            }
            case JsonValueKind.Undefined or JsonValueKind.Null: throw ApiException.BadRequest("prompt is required", "prompt");
            default: throw ApiException.BadRequest("prompt must be a string, an array of one string, or an array of integer token ids", "prompt");
        }
    }

    // An empty text gives a model without a BOS token nothing to continue from, and one with a BOS an
    // unconditioned sample: neither is what a caller meant, so it is refused for every model alike.
    private static string NonEmpty(string text) =>
        text.Length > 0 ? text : throw ApiException.BadRequest("prompt must not be empty", "prompt");

    /// <summary>
    /// Chat messages: roles system, developer (as system), user, assistant (which may carry tool_calls, its
    /// content then optional) or tool (with the tool_call_id it answers); content a string or text parts.
    /// </summary>
    public static List<ChatTurn> Messages(List<ChatMessageDto>? messages)
    {
        if (messages is null || messages.Count == 0) throw ApiException.BadRequest("messages must be a non-empty array", "messages");
        if (messages.Count > MaxMessages) throw ApiException.BadRequest($"messages holds {messages.Count} entries; at most {MaxMessages} are allowed", "messages");
        var turns = new List<ChatTurn>(messages.Count);
        foreach (var message in messages)
        {
            if (message is null) throw ApiException.BadRequest("each message must be an object", "messages");
            string role = message.Role switch
            {
                "system" or "developer" => "system",
                "user" => "user",
                "assistant" => "assistant",
                "tool" => "tool",
                null => throw ApiException.BadRequest("each message needs a role", "messages"),
                _ => throw ApiException.BadRequest($"message role '{message.Role}' is not supported; use system, user, assistant or tool", "messages"),
            };
            var calls = role == "assistant" ? ToolValidator.ToolCalls(message.ToolCalls) : null;
            if (role != "assistant" && message.ToolCalls.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
                throw ApiException.BadRequest("only assistant messages may hold tool_calls", "messages");
            string? callId = role == "tool" ? ToolValidator.CallId(message.ToolCallId) : null;
            turns.Add(new ChatTurn(role, Content(message.Content)) { ToolCalls = calls, ToolCallId = callId, Name = role == "tool" ? message.Name : null });
        }
        return turns;
    }

    private static string Content(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String: return content.GetString()!;
            case JsonValueKind.Null or JsonValueKind.Undefined: return "";
            case JsonValueKind.Array:
                var text = new System.Text.StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                        throw ApiException.BadRequest("message content parts must be objects with a type", "messages");
                    if (type.GetString() != "text") throw ApiException.BadRequest($"content part type '{type.GetString()}' is not supported; only text", "messages");
                    if (!part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
                        throw ApiException.BadRequest("a text content part needs a string 'text'", "messages");
                    text.Append(value.GetString());
                }
                return text.ToString();
            default: throw ApiException.BadRequest("message content must be a string or an array of text parts", "messages");
        }
    }
}

/// <summary>A reply that must be JSON: any object when <paramref name="Schema"/> is null, else one the schema allows.</summary>
internal sealed record ResponseShape(JsonSchemaProgram? Schema);
