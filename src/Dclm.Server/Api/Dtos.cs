using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dclm.Server.Api;

// Wire shapes of the OpenAI API. Fields that may be a string or an array (prompt, stop, content)
// arrive as JsonElement and are checked by RequestValidator; everything else is typed, so a wrong
// JSON type or an out-of-range number fails deserialisation and becomes a 400.

internal sealed class StreamOptionsDto
{
    public bool IncludeUsage { get; set; }
}

/// <summary>Sampling fields shared by completions and chat completions.</summary>
internal abstract class SamplingDto
{
    public string? Model { get; set; }
    public int? MaxTokens { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public float? RepetitionPenalty { get; set; }
    public float? FrequencyPenalty { get; set; }
    public float? PresencePenalty { get; set; }
    public long? Seed { get; set; }
    public JsonElement Stop { get; set; }
    public int? N { get; set; }
    public bool Stream { get; set; }
    public StreamOptionsDto? StreamOptions { get; set; }
    public JsonElement Logprobs { get; set; }
    public JsonElement LogitBias { get; set; }
    public string? User { get; set; }
}

internal sealed class CompletionRequestDto : SamplingDto
{
    public JsonElement Prompt { get; set; }
    public bool Echo { get; set; }
    /// <summary>Text after the insertion point: fill-in-the-middle with the tokenizer's FIM tokens (see InfillRequests).</summary>
    public string? Suffix { get; set; }
    // Read only to refuse what the server cannot honour (RequestValidator.Unsupported).
    public int? BestOf { get; set; }
}

/// <summary>POST /infill, llama-server's fill-in-the-middle request; <c>n_predict</c> is its name for max_tokens.</summary>
internal sealed class InfillRequestDto : SamplingDto
{
    public JsonElement InputPrefix { get; set; }
    public JsonElement InputSuffix { get; set; }
    public JsonElement InputExtra { get; set; }
    public JsonElement Prompt { get; set; }
    public int? NPredict { get; set; }
}

/// <summary>
/// /infill's answer in llama-server's /completion shape: the whole reply, or one per token when streamed (the last with
/// <c>stop</c> true and the counts). <c>prompt</c> is the assembled prompt, its FIM tokens spelled out.
/// </summary>
internal sealed class InfillResponseDto
{
    public int Index { get; set; }
    public string Content { get; set; } = "";
    public List<int> Tokens { get; set; } = [];
    public bool Stop { get; set; }
    public string? Model { get; set; }
    public int? TokensPredicted { get; set; }
    public int? TokensEvaluated { get; set; }
    public int? TokensCached { get; set; }
    public string? Prompt { get; set; }
    public bool? Truncated { get; set; }
    /// <summary>"eos", "word" (a stop string) or "limit" (the token budget), as llama-server reports it.</summary>
    public string? StopType { get; set; }
}

internal sealed class ChatMessageDto
{
    public string? Role { get; set; }
    public JsonElement Content { get; set; }
    public string? Name { get; set; }
    public JsonElement ToolCalls { get; set; }
    public JsonElement ToolCallId { get; set; }
}

internal sealed class ChatRequestDto : SamplingDto
{
    public List<ChatMessageDto>? Messages { get; set; }
    public int? MaxCompletionTokens { get; set; }
    public int? TopLogprobs { get; set; }
    public JsonElement Tools { get; set; }
    public JsonElement ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    public string? ReasoningFormat { get; set; }
    public JsonElement ResponseFormat { get; set; }
    /// <summary>Our extension: ground the answer in an index's chunks (see <see cref="RagRequestDto"/>).</summary>
    public RagRequestDto? Rag { get; set; }
}

/// <summary>The chat extension <c>"rag": {"index": "default", "top_k": 5, "mode": "hybrid"}</c>.</summary>
internal sealed class RagRequestDto
{
    public string? Index { get; set; }
    public int? TopK { get; set; }
    public string? Mode { get; set; }
}

/// <summary>What a grounded answer was given: the numbered sources its [n] citations refer to, and how long retrieval took.</summary>
internal sealed class RagResponseDto
{
    public string Index { get; set; } = "";
    public double RetrievalMs { get; set; }
    public List<CitationDto> Citations { get; set; } = [];
}

internal sealed class CitationDto
{
    public int Number { get; set; }
    public string Source { get; set; } = "";
    public int Chunk { get; set; }
    public string Text { get; set; } = "";
    public float Score { get; set; }
}

/// <summary>POST /v1/embeddings: input a string, an array of strings, an array of token ids or an array of such arrays.</summary>
internal sealed class EmbeddingRequestDto
{
    public string? Model { get; set; }
    public JsonElement Input { get; set; }
    public string? EncodingFormat { get; set; }
    public int? Dimensions { get; set; }
    public string? User { get; set; }
    /// <summary>Our extension (as text-embeddings-inference has it): cut inputs longer than the model's limit instead of refusing them.</summary>
    public bool Truncate { get; set; }
}

internal sealed class IndexDto
{
    public string Name { get; set; } = "";
    public int Chunks { get; set; }
    public int Files { get; set; }
    public string Embedder { get; set; } = "";
}

internal sealed class IndexListDto
{
    public string Object { get; set; } = "list";
    public List<IndexDto> Data { get; set; } = [];
}

internal sealed class TokenizeRequestDto
{
    public string? Model { get; set; }
    public JsonElement Prompt { get; set; }
    public List<ChatMessageDto>? Messages { get; set; }
    public JsonElement Tools { get; set; }
    public bool AddSpecialTokens { get; set; } = true;
}

internal sealed class DetokenizeRequestDto
{
    public string? Model { get; set; }
    public List<int>? Tokens { get; set; }
}

internal sealed class PromptTokensDetails
{
    public int CachedTokens { get; set; }
}

internal sealed class UsageDto
{
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int TotalTokens { get; set; }
    public PromptTokensDetails? PromptTokensDetails { get; set; }
}

internal sealed class CompletionChoiceDto
{
    public int Index { get; set; }
    public string Text { get; set; } = "";
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public CompletionLogprobsDto? Logprobs { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? FinishReason { get; set; }
}

/// <summary>The legacy completions shape: parallel lists, one entry per token (the echoed prompt's first, then the generated ones).</summary>
internal sealed class CompletionLogprobsDto
{
    public List<string> Tokens { get; set; } = [];
    /// <summary>Null for the first token of an echoed prompt, which has no context to be scored in.</summary>
    public List<float?> TokenLogprobs { get; set; } = [];
    public List<Dictionary<string, float>?> TopLogprobs { get; set; } = [];
    public List<int> TextOffset { get; set; } = [];
}

internal sealed class CompletionResponseDto
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "text_completion";
    public long Created { get; set; }
    public string Model { get; set; } = "";
    public List<CompletionChoiceDto> Choices { get; set; } = [];
    public UsageDto? Usage { get; set; }
}

internal sealed class ChatMessageOutDto
{
    public string? Role { get; set; }
    public string? Content { get; set; }
    /// <summary>A reasoning model's thinking, apart from its answer (DeepSeek's and llama.cpp's field).</summary>
    public string? ReasoningContent { get; set; }
    public List<ToolCallDto>? ToolCalls { get; set; }
}

internal sealed class ToolCallDto
{
    /// <summary>The call's place in the reply; streamed deltas carry it, whole messages do not.</summary>
    public int? Index { get; set; }
    public string Id { get; set; } = "";
    public string Type { get; set; } = "function";
    public FunctionCallDto Function { get; set; } = new();
}

internal sealed class FunctionCallDto
{
    public string Name { get; set; } = "";
    /// <summary>JSON object text, as OpenAI sends it.</summary>
    public string Arguments { get; set; } = "{}";
}

internal sealed class ChatChoiceDto
{
    public int Index { get; set; }
    public ChatMessageOutDto? Message { get; set; }
    public ChatMessageOutDto? Delta { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public ChatLogprobsDto? Logprobs { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? FinishReason { get; set; }
    /// <summary>With "rag": the source numbers the reply cites, first-cited first (on the last chunk when streamed).</summary>
    public List<int>? Cited { get; set; }
}

internal sealed class ChatLogprobsDto
{
    public List<ChatTokenLogprobDto> Content { get; set; } = [];
}

internal sealed class ChatTokenLogprobDto
{
    public string Token { get; set; } = "";
    public float Logprob { get; set; }
    public List<int> Bytes { get; set; } = [];
    public List<ChatTokenLogprobDto>? TopLogprobs { get; set; }
}

internal sealed class ChatResponseDto
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "chat.completion";
    public long Created { get; set; }
    public string Model { get; set; } = "";
    public List<ChatChoiceDto> Choices { get; set; } = [];
    public UsageDto? Usage { get; set; }
    /// <summary>With "rag": the sources (on the first chunk when streamed).</summary>
    public RagResponseDto? Rag { get; set; }
}

internal sealed class ModelDto
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "model";
    public long Created { get; set; }
    public string OwnedBy { get; set; } = "dclm";
    /// <summary>For a LoRA adapter, the base it runs on (vLLM's ModelCard.parent); null for the base.</summary>
    public string? Parent { get; set; }
    /// <summary>For a LoRA adapter, its directory (vLLM's ModelCard.root).</summary>
    public string? Root { get; set; }
    public int MaxModelLen { get; set; }
}

/// <summary>POST /v1/lora-adapters: vLLM's load_lora_adapter body.</summary>
internal sealed class LoadAdapterRequestDto
{
    public string? LoraName { get; set; }
    public string? LoraPath { get; set; }
}

internal sealed class ModelListDto
{
    public string Object { get; set; } = "list";
    public List<ModelDto> Data { get; set; } = [];
}

internal sealed class TokenizeResponseDto
{
    public List<int> Tokens { get; set; } = [];
    public int Count { get; set; }
    public int MaxModelLen { get; set; }
}

internal sealed class DetokenizeResponseDto
{
    public string Prompt { get; set; } = "";
}

/// <summary>POST /apply-template's answer: the chat prompt the model would be given, as text.</summary>
internal sealed class ApplyTemplateResponseDto
{
    public string Prompt { get; set; } = "";
}

internal sealed class ErrorBodyDto
{
    public string Message { get; set; } = "";
    public string Type { get; set; } = "";
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Param { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Code { get; set; }
}

internal sealed class ErrorResponseDto
{
    public ErrorBodyDto Error { get; set; } = new();
}

internal sealed class HealthDto
{
    public string Status { get; set; } = "";
    public string? Error { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    MaxDepth = 32)]
[JsonSerializable(typeof(CompletionRequestDto))]
[JsonSerializable(typeof(InfillRequestDto))]
[JsonSerializable(typeof(InfillResponseDto))]
[JsonSerializable(typeof(ChatRequestDto))]
[JsonSerializable(typeof(TokenizeRequestDto))]
[JsonSerializable(typeof(DetokenizeRequestDto))]
[JsonSerializable(typeof(CompletionResponseDto))]
[JsonSerializable(typeof(ChatResponseDto))]
[JsonSerializable(typeof(ModelListDto))]
[JsonSerializable(typeof(LoadAdapterRequestDto))]
[JsonSerializable(typeof(ModelDto))]
[JsonSerializable(typeof(TokenizeResponseDto))]
[JsonSerializable(typeof(DetokenizeResponseDto))]
[JsonSerializable(typeof(ApplyTemplateResponseDto))]
[JsonSerializable(typeof(ErrorResponseDto))]
[JsonSerializable(typeof(HealthDto))]
[JsonSerializable(typeof(EmbeddingRequestDto))]
[JsonSerializable(typeof(IndexListDto))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
