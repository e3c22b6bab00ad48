using System.Runtime.CompilerServices;
using System.Text.Json;
using Dclm.Chat;
using Dclm.Chat.Tools;
using Dclm.Inference;
using Dclm.Inference.Constraints;
using Dclm.Inference.Engine;
using Microsoft.Extensions.AI;

namespace Dclm.Chat;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> over the same engine the HTTP server uses, so
/// .NET code can chat with the model in-process: the same template, batching and prefix cache. Functions in
/// <see cref="ChatOptions.Tools"/> reach the model's template, and its calls come back as
/// <see cref="FunctionCallContent"/>, so <c>FunctionInvokingChatClient</c> can run them. <see cref="ChatOptions.ModelId"/>
/// picks a LoRA adapter the host serves by its name (or the base by its own), as an HTTP request's "model" does;
/// without one, the client's <paramref name="model"/> (the base when null).
/// </summary>
/// <param name="host">The loaded model and engine.</param>
/// <param name="model">The model name used when a call's options name none: the base's, an adapter's, or null for the base.</param>
public sealed class EngineChatClient(ModelHost host, string? model = null) : IChatClient
{
    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (stream, chat) = await SubmitAsync(messages, options, cancellationToken);
        // The reply as the parser reads it: with the call syntax's control tokens kept (decoding drops them).
        var text = new System.Text.StringBuilder();
        var result = await stream.CollectAsync(update => text.Append(chat.ReplyPiece(update)), cancellationToken);
        var finish = Reason(result.FinishReason);
        var parser = chat.CreateParser(splitReasoning: true);
        List<AIContent> contents = [new TextContent(result.Text)];
        if (parser.IsActive)
        {
            var reply = parser.Parse(text.ToString());
            contents = [.. Contents(reply.Reasoning, reply.Content), .. reply.Calls.Select(Call)];
            if (reply.Calls.Count > 0) finish = ChatFinishReason.ToolCalls;
        }
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents)) { ModelId = chat.ModelId, FinishReason = finish, Usage = Usage(result.Usage) };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (stream, chat) = await SubmitAsync(messages, options, cancellationToken);
        var parser = chat.CreateParser(splitReasoning: true);
        string id = Guid.NewGuid().ToString("N");
        await foreach (var update in stream.WithCancellation(cancellationToken))
        {
            var piece = parser.IsActive ? parser.Push(chat.ReplyPiece(update)) : new(Reasoning: "", Content: update.Text);
            var next = new ChatResponseUpdate(ChatRole.Assistant, [.. Contents(piece.Reasoning, piece.Content)]) { ResponseId = id, ModelId = chat.ModelId };
            if (update.Usage is { } usage)
            {
                next.FinishReason = Reason(update.FinishReason);
                if (parser.IsActive)
                {
                    var end = parser.Finish();
                    foreach (var content in Contents(end.Reasoning, end.Content)) next.Contents.Add(content);
                    foreach (var call in end.Calls) next.Contents.Add(Call(call));
                    if (end.Calls.Count > 0) next.FinishReason = ChatFinishReason.ToolCalls;
                }
                next.Contents.Add(new UsageContent(Usage(usage)));
            }
            if (next.Contents.Count > 0) yield return next;
        }
    }

    private async Task<(GenerationStream Stream, Submitted Chat)> SubmitAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellation)
    {
        var json = options?.ResponseFormat as ChatResponseFormatJson;
        var schema = Schema(json);
        var tools = Tools(options);
        if (json is not null && tools is not null) throw new NotSupportedException("a JSON response format and tools cannot be combined");
        await host.Loading.WaitAsync(cancellation);
        var engine = host.Engine!;
        string name = options?.ModelId ?? model ?? host.ModelId;
        int adapter = host.ResolveModel(name)
            ?? throw new ArgumentException($"the model '{name}' is not served here; choose one of {string.Join(", ", host.Models.Select(m => m.Name))}", nameof(options));
        var turns = messages.SelectMany(Turns).ToList();
        if (turns.Count == 0) throw new ArgumentException("a chat needs at least one message", nameof(messages));
        ChatPrompt chat;
        try { chat = host.EncodeChat(turns, tools); }
        catch (RequestValidationException e) when (e.Field == "tools") { throw new NotSupportedException(e.Message); }
        int left = engine.ContextLength - chat.Ids.Length;
        if (left <= 0) throw new ArgumentException($"the conversation has {chat.Ids.Length} tokens; the context holds {engine.ContextLength}", nameof(messages));
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? 1f, TopP = options?.TopP ?? 1f, TopK = options?.TopK ?? 0, MinP = 0,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0, PresencePenalty = options?.PresencePenalty ?? 0,
            Seed = options?.Seed is long seed ? unchecked((ulong)seed) : (ulong)Random.Shared.NextInt64(),
            MaxTokens = Math.Min(options?.MaxOutputTokens ?? left, left),
            StopStrings = [.. options?.StopSequences ?? [], .. chat.Template.StopStrings],
        };
        var constraint = Constraint(chat, json is not null, schema, tools, options?.ToolMode);
        return (engine.Submit(engine.CreateRequest(chat.Ids, sampling, chat.StopTokenIds, constraint: constraint, adapter: adapter), cancellation), new Submitted(chat, name));
    }

    /// <summary>A submitted conversation's prompt and the model name that answers it.</summary>
    private sealed record Submitted(ChatPrompt Prompt, string ModelId)
    {
        public Replies.ReplyParser CreateParser(bool splitReasoning) => Prompt.CreateParser(splitReasoning);
        public string ReplyPiece(GenerationUpdate update) => Prompt.ReplyPiece(update);
    }

    /// <summary>A JSON format's schema as a grammar; one the grammar cannot honour is refused rather than loosened.</summary>
    private static JsonSchemaProgram? Schema(ChatResponseFormatJson? json)
    {
        if (json?.Schema is not { } schema) return null;
        try { return JsonSchemaProgram.Compile(schema); }
        catch (ArgumentException e) { throw new NotSupportedException($"the JSON schema cannot be enforced: {e.Message}"); }
    }

    /// <summary>What the sampler enforces: a JSON reply (any object, or the schema's), or a call when the tool mode requires one.</summary>
    private Func<ITokenConstraint>? Constraint(ChatPrompt chat, bool json, JsonSchemaProgram? schema, IReadOnlyList<ToolDefinition>? tools, ChatToolMode? mode)
    {
        try
        {
            List<ToolDefinition>? forced = null;
            if (tools is not null && mode is RequiredChatToolMode required)
            {
                forced = required.RequiredFunctionName is { } name ? tools.Where(t => t.Name == name).ToList() : [.. tools];
                if (forced.Count == 0) throw new ArgumentException($"the required function '{required.RequiredFunctionName}' is not among the tools");
            }
            return host.ReplyConstraint(chat, json, schema, forced);
        }
        catch (RequestValidationException e) { throw new NotSupportedException(e.Message); }
    }

    /// <summary>Thinking as reasoning content, then the answer's text; empty parts are left out.</summary>
    private static IEnumerable<AIContent> Contents(string reasoning, string text)
    {
        if (reasoning.Length > 0) yield return new TextReasoningContent(reasoning);
        if (text.Length > 0) yield return new TextContent(text);
    }

    /// <summary>The functions offered, or null when none are or the tool mode is None (a required mode forces a call of one of them).</summary>
    private static List<ToolDefinition>? Tools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools || options.ToolMode is NoneChatToolMode) return null;
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
