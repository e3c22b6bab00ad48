using System.Runtime.CompilerServices;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Server.Chat;
using Microsoft.Extensions.AI;

namespace Dclm.Server.Hosting;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> over the same engine the HTTP server uses, so
/// .NET code can chat with the model in-process: the same template, batching and prefix cache.
/// </summary>
public sealed class EngineChatClient(ModelHost host) : IChatClient
{
    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var stream = await SubmitAsync(messages, options, cancellationToken);
        var result = await stream.CollectAsync(cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
        {
            ModelId = host.ModelId,
            FinishReason = Reason(result.FinishReason),
            Usage = Usage(result.Usage),
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = await SubmitAsync(messages, options, cancellationToken);
        string id = Guid.NewGuid().ToString("N");
        await foreach (var update in stream.WithCancellation(cancellationToken))
        {
            if (update.Usage is { } usage)
            {
                var last = new ChatResponseUpdate(ChatRole.Assistant, update.Text) { ResponseId = id, ModelId = host.ModelId, FinishReason = Reason(update.FinishReason) };
                last.Contents.Add(new UsageContent(Usage(usage)));
                yield return last;
            }
            else if (update.Text.Length > 0)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, update.Text) { ResponseId = id, ModelId = host.ModelId };
            }
        }
    }

    private async Task<GenerationStream> SubmitAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellation)
    {
        // Refused rather than ignored, as the HTTP API refuses them: the model would answer as if they were honoured.
        if (options?.Tools is { Count: > 0 } && options.ToolMode is not NoneChatToolMode)
            throw new NotSupportedException("tools (function calling) are not supported; pass no tools or ChatToolMode.None");
        if (options?.ResponseFormat is ChatResponseFormatJson)
            throw new NotSupportedException("JSON response formats are not supported; only text");
        await host.Loading.WaitAsync(cancellation);
        var engine = host.Engine!;
        var turns = messages.Select(m => new ChatTurn(Role(m.Role), m.Text)).ToList();
        if (turns.Count == 0) throw new ArgumentException("a chat needs at least one message", nameof(messages));
        var (prompt, stopTokens) = host.EncodeChat(turns);
        int left = engine.ContextLength - prompt.Length;
        if (left <= 0) throw new ArgumentException($"the conversation has {prompt.Length} tokens; the context holds {engine.ContextLength}", nameof(messages));
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? 1f, TopP = options?.TopP ?? 1f, TopK = options?.TopK ?? 0, MinP = 0,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0, PresencePenalty = options?.PresencePenalty ?? 0,
            Seed = options?.Seed is long seed ? unchecked((ulong)seed) : (ulong)Random.Shared.NextInt64(),
            MaxTokens = Math.Min(options?.MaxOutputTokens ?? left, left),
            StopStrings = [.. options?.StopSequences ?? [], .. host.Template.StopStrings],
        };
        return engine.Submit(engine.CreateRequest(prompt, sampling, stopTokens), cancellation);
    }

    private static string Role(ChatRole role) =>
        role == ChatRole.System ? "system" : role == ChatRole.Assistant ? "assistant" : role == ChatRole.User ? "user"
        : throw new ArgumentException($"chat role '{role}' is not supported; use system, user or assistant");

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
