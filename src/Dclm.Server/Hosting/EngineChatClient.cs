using System.Runtime.CompilerServices;
using System.Text.Json;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Server.Chat;
using Dclm.Server.Chat.Tools;
using Microsoft.Extensions.AI;

namespace Dclm.Server.Hosting;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> over the same engine the HTTP server uses, so
/// .NET code can chat with the model in-process: the same template, batching and prefix cache. Functions in
/// <see cref="ChatOptions.Tools"/> reach the model's template, and its calls come back as
/// <see cref="FunctionCallContent"/>, so <c>FunctionInvokingChatClient</c> can run them.
/// </summary>
public sealed class EngineChatClient(ModelHost host) : IChatClient
{
    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (stream, format) = await SubmitAsync(messages, options, cancellationToken);
        var result = await stream.CollectAsync(cancellationToken);
        var message = new ChatMessage(ChatRole.Assistant, result.Text);
        var finish = Reason(result.FinishReason);
        if (format?.Split(result.Text) is ({ } text, { Count: > 0 } calls, _))
        {
            message = new ChatMessage(ChatRole.Assistant, [.. Text(text), .. calls.Select(Call)]);
            finish = ChatFinishReason.ToolCalls;
        }
        return new ChatResponse(message) { ModelId = host.ModelId, FinishReason = finish, Usage = Usage(result.Usage) };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (stream, format) = await SubmitAsync(messages, options, cancellationToken);
        var extractor = format?.CreateExtractor();
        string id = Guid.NewGuid().ToString("N");
        await foreach (var update in stream.WithCancellation(cancellationToken))
        {
            string text = extractor is null ? update.Text : extractor.Push(update.Text);
            if (update.Usage is { } usage)
            {
                var last = new ChatResponseUpdate(ChatRole.Assistant, text) { ResponseId = id, ModelId = host.ModelId, FinishReason = Reason(update.FinishReason) };
                if (extractor is not null)
                {
                    var (rest, calls) = extractor.Finish();
                    if (rest.Length > 0) last.Contents.Add(new TextContent(rest));
                    foreach (var call in calls) last.Contents.Add(Call(call));
                    if (calls.Count > 0) last.FinishReason = ChatFinishReason.ToolCalls;
                }
                last.Contents.Add(new UsageContent(Usage(usage)));
                yield return last;
            }
            else if (text.Length > 0)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, text) { ResponseId = id, ModelId = host.ModelId };
            }
        }
    }

    private async Task<(GenerationStream Stream, ToolCallFormat? Format)> SubmitAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellation)
    {
        // Refused rather than ignored, as the HTTP API refuses it: the model would answer as if it were honoured.
        if (options?.ResponseFormat is ChatResponseFormatJson)
            throw new NotSupportedException("JSON response formats are not supported; only text");
        var tools = Tools(options);
        await host.Loading.WaitAsync(cancellation);
        var engine = host.Engine!;
        var turns = messages.SelectMany(Turns).ToList();
        if (turns.Count == 0) throw new ArgumentException("a chat needs at least one message", nameof(messages));
        int[] prompt, stopTokens;
        try { (prompt, stopTokens) = host.EncodeChat(turns, tools); }
        catch (RequestValidationException e) when (e.Field == "tools") { throw new NotSupportedException(e.Message); }
        int left = engine.ContextLength - prompt.Length;
        if (left <= 0) throw new ArgumentException($"the conversation has {prompt.Length} tokens; the context holds {engine.ContextLength}", nameof(messages));
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? 1f, TopP = options?.TopP ?? 1f, TopK = options?.TopK ?? 0, MinP = 0,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0, PresencePenalty = options?.PresencePenalty ?? 0,
            Seed = options?.Seed is long seed ? unchecked((ulong)seed) : (ulong)Random.Shared.NextInt64(),
            MaxTokens = Math.Min(options?.MaxOutputTokens ?? left, left),
            StopStrings = [.. options?.StopSequences ?? [], .. host.TemplateFor(tools).StopStrings],
        };
        var stream = engine.Submit(engine.CreateRequest(prompt, sampling, stopTokens), cancellation);
        return (stream, tools is null ? null : host.TemplateFor(tools).ToolFormat);
    }

    /// <summary>The functions offered, or null when none are or the tool mode is None; forcing a call needs constrained decoding, which the engine lacks.</summary>
    private static List<ToolDefinition>? Tools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools || options.ToolMode is NoneChatToolMode) return null;
        if (options.ToolMode is RequiredChatToolMode)
            throw new NotSupportedException("a required tool mode needs constrained decoding, which this engine does not have; use ChatToolMode.Auto");
        return tools.Select(tool => tool is AIFunctionDeclaration function
            ? new ToolDefinition(function.Name, string.IsNullOrEmpty(function.Description) ? null : function.Description, function.JsonSchema)
            : throw new NotSupportedException($"the tool '{tool.Name}' is not a function; only functions can be offered")).ToList();
    }

    /// <summary>A message as template turns: function results become tool messages, function calls the assistant's tool_calls.</summary>
    private static IEnumerable<ChatTurn> Turns(ChatMessage message)
    {
        if (message.Role == ChatRole.Tool)
        {
            foreach (var result in message.Contents.OfType<FunctionResultContent>())
                yield return new ChatTurn("tool", result.Result as string ?? JsonSerializer.Serialize(result.Result, AIJsonUtilities.DefaultOptions)) { ToolCallId = result.CallId };
            yield break;
        }
        var calls = message.Contents.OfType<FunctionCallContent>()
            .Select(c => new ToolCall(c.CallId, c.Name, JsonSerializer.Serialize(c.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions))).ToList();
        yield return new ChatTurn(Role(message.Role), message.Text) { ToolCalls = calls.Count > 0 ? calls : null };
    }

    private static IEnumerable<AIContent> Text(string text) => string.IsNullOrWhiteSpace(text) ? [] : [new TextContent(text)];

    private static FunctionCallContent Call(ToolCall call) =>
        new(call.Id, call.Name, JsonSerializer.Deserialize<Dictionary<string, object?>>(call.Arguments, AIJsonUtilities.DefaultOptions));

    private static string Role(ChatRole role) =>
        role == ChatRole.System ? "system" : role == ChatRole.Assistant ? "assistant" : role == ChatRole.User ? "user"
        : throw new ArgumentException($"chat role '{role}' is not supported; use system, user, assistant or tool");

    private static ChatFinishReason Reason(FinishReason reason) => reason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(GenerationUsage usage) => new()
    {
        InputTokenCount = usage.PromptTokens, OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.TotalTokens, CachedInputTokenCount = usage.CachedTokens,
    };

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("dclm", null, host.ModelId) : null;

    /// <summary>The host owns the engine; nothing to release here.</summary>
    public void Dispose() { }
}
