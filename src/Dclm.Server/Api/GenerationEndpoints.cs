using System.Diagnostics;
using Dclm.Chat;
using Dclm.Chat.Tools;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>POST /v1/completions and /v1/chat/completions, whole or streamed.</summary>
internal sealed class GenerationEndpoints(ModelHost host, RetrievalHost retrieval, ServerOptions options, ServerMetrics metrics)
{
    /// <summary>OpenAI's default budget for /v1/completions when max_tokens is absent.</summary>
    private const int DefaultCompletionTokens = 16;

    public async Task CompletionsAsync(HttpContext context)
    {
        long arrival = Stopwatch.GetTimestamp();
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.CompletionRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        var model = ApiGuards.Model(host, dto.Model);
        RequestValidator.Unsupported(dto);
        var (text, tokens) = RequestValidator.Prompt(dto.Prompt);
        // With a suffix the prompt is the text before the insertion point, laid out with the FIM tokens.
        int[]? stopTokens = null;
        int[] prompt;
        if (dto.Suffix is not null)
        {
            stopTokens = InfillRequests.StopTokens(InfillRequests.RequireTokens(host.Tokenizer, "suffix"));
            var tokenizer = host.Tokenizer!;
            var input = InfillRequests.ForCompletion(text, tokens, dto.Suffix, tokenizer);
            prompt = Dclm.Tokenizers.InfillPrompt.Build(tokenizer, input, InfillRequests.Budget(engine.ContextLength, dto.MaxTokens ?? DefaultCompletionTokens));
        }
        else prompt = tokens ?? host.EncodeText(text!);
        int maxTokens = RequestValidator.MaxTokens(dto.MaxTokens, prompt.Length, engine.ContextLength, DefaultCompletionTokens, least: dto.Echo ? 0 : 1);
        int count = RequestValidator.Choices(dto);
        int topLogprobs = RequestValidator.CompletionLogprobs(dto);
        // Echo with logprobs scores the prompt too: what evaluation harnesses call loglikelihood.
        bool scorePrompt = dto.Echo && topLogprobs >= 0;
        var sampling = RequestValidator.Sampling(dto, maxTokens);
        var requests = Enumerable.Range(0, count).Select(i => Create(engine, prompt, WithChoiceSeed(sampling, i), stopTokens, topLogprobs, model.Adapter, scorePrompt)).ToArray();
        var formatter = new LogprobsFormatter(host.Tokenizer!);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string echo = dto.Echo ? text ?? host.Tokenizer!.Decode(prompt) : "";
        using var choices = ChoiceSet.Submit(engine, i => requests[i], count, context.RequestAborted);

        if (!dto.Stream)
        {
            var results = await CollectAll(choices, arrival, context.RequestAborted);
            var response = new CompletionResponseDto
            {
                Id = id, Created = created, Model = model.Name, Usage = Usage(ChoiceSet.Combine(results.Select(r => r.Usage).ToList())),
                Choices = results.Select((r, i) =>
                {
                    int offset = 0;
                    var logprobs = topLogprobs >= 0 ? new CompletionLogprobsDto() : null;
                    if (logprobs is not null && r.PromptLogprobs is { } scored) formatter.Append(logprobs, prompt, scored, ref offset);
                    offset = echo.Length;
                    if (logprobs is not null) formatter.Append(logprobs, r.TokenIds, r.Logprobs, ref offset);
                    return new CompletionChoiceDto { Index = i, Text = echo + r.Text, Logprobs = logprobs, FinishReason = Reason(r.FinishReason) };
                }).ToList(),
            };
            await Results.Json(response, ApiJsonContext.Default.CompletionResponseDto).ExecuteAsync(context);
            return;
        }

        var sse = new SseWriter(context.Response);
        sse.Start();
        var offsets = new int[count];
        CompletionResponseDto Chunk(int choice, string piece, string? finish, GenerationUpdate? token = null, CompletionLogprobsDto? logprobs = null)
        {
            if (token is { Logprobs: { } entry }) logprobs = formatter.Completion([token.TokenId], [entry], ref offsets[choice]);
            return new()
            {
                Id = id, Created = created, Model = model.Name,
                Choices = [new CompletionChoiceDto { Index = choice, Text = piece, Logprobs = logprobs, FinishReason = finish }],
            };
        }
        // The echo goes first; with its scores it waits until the prompt has run.
        if (echo.Length > 0 && !scorePrompt)
            for (int i = 0; i < count; i++) await sse.WriteAsync(Chunk(i, echo, null), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
        var timers = Enumerable.Range(0, count).Select(_ => metrics.StartTokens(arrival)).ToArray();
        var usages = new List<GenerationUsage>();
        await foreach (var (choice, update) in choices.MergeAsync(context.RequestAborted))
        {
            if (update.TokenId >= 0) timers[choice].Token();
            if (update.PromptLogprobs is { } scored)
            {
                int start = 0;
                var promptLogprobs = formatter.Completion(prompt, scored, ref start);
                offsets[choice] = echo.Length;
                await sse.WriteAsync(Chunk(choice, echo, null, null, promptLogprobs), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
            }
            if (update.Usage is { } usage)
            {
                metrics.CountUsage(usage);
                usages.Add(usage);
                await sse.WriteAsync(Chunk(choice, update.Text, Reason(update.FinishReason)), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
            }
            else if (update.Text.Length > 0 || update.Logprobs is not null)
            {
                await sse.WriteAsync(Chunk(choice, update.Text, null, update), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
            }
        }
        if (dto.StreamOptions?.IncludeUsage == true)
            await sse.WriteAsync(new CompletionResponseDto { Id = id, Created = created, Model = model.Name, Usage = Usage(ChoiceSet.Combine(usages)) }, ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
        await sse.DoneAsync(context.RequestAborted);
    }

    public async Task ChatAsync(HttpContext context)
    {
        long arrival = Stopwatch.GetTimestamp();
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.ChatRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        var model = ApiGuards.Model(host, dto.Model);
        var shape = RequestValidator.ResponseFormat(dto);
        var messages = RequestValidator.Messages(dto.Messages);
        // "rag": the sources go into the conversation before it is encoded, and the response reports them.
        var grounded = dto.Rag is null ? null : RagGrounding.Ground(dto.Rag, messages, retrieval, host, engine.ContextLength, dto.MaxCompletionTokens ?? dto.MaxTokens);
        if (grounded is not null) messages = grounded.Messages;
        var (tools, forced) = ToolValidator.Read(dto.Tools, dto.ToolChoice);
        if (shape is not null && tools is not null)
            throw ApiException.BadRequest("a JSON response_format and tools cannot be combined: a reply that must be a JSON object cannot also call a function", "response_format");
        var chat = ApiGuards.EncodeChat(host, messages, tools);
        string field = dto.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens";
        int maxTokens = RequestValidator.MaxTokens(dto.MaxCompletionTokens ?? dto.MaxTokens, chat.Ids.Length, engine.ContextLength, int.MaxValue, field);
        int count = RequestValidator.Choices(dto);
        var call = new ChatCall(chat, model.Name, RequestValidator.SplitReasoning(dto), RequestValidator.ChatLogprobs(dto),
            // parallel_tool_calls: false asks for at most one call per reply; later ones are dropped.
            dto.ParallelToolCalls == false ? 1 : int.MaxValue, "chatcmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), arrival, grounded,
            shape is null ? null : shape.Schema is null ? "json_object" : "json_schema");
        var sampling = RequestValidator.Sampling(dto, maxTokens);
        sampling = sampling with { StopStrings = [.. sampling.StopStrings, .. chat.Template.StopStrings] };
        var constraint = Constraint(chat, shape, forced);
        var requests = Enumerable.Range(0, count).Select(i => Create(engine, chat.Ids, WithChoiceSeed(sampling, i), chat.StopTokenIds, call.TopLogprobs, model.Adapter, constraint: constraint)).ToArray();
        using var choices = ChoiceSet.Submit(engine, i => requests[i], count, context.RequestAborted);
        if (dto.Stream) await StreamChatAsync(context, call, choices, count, dto.StreamOptions?.IncludeUsage == true);
        else await WholeChatAsync(context, call, choices);
    }

    /// <summary>
    /// One chat request's reading of its replies: the prompt (and its template), the model name, the reasoning and tool options, ids, the sources
    /// of a grounded answer, and the JSON mode (json_object or json_schema, whose replies are checked to parse; null for free text).
    /// </summary>
    private sealed record ChatCall(ChatPrompt Chat, string Model, bool SplitReasoning, int TopLogprobs, int MaxCalls, string Id, long Created, long Arrival, RagGrounding.Grounded? Rag,
        string? JsonMode);

    /// <summary>What the sampler enforces: a JSON reply (any object, or a schema's) or a forced function call; null for free text.</summary>
    private Func<Dclm.Inference.Constraints.ITokenConstraint>? Constraint(ChatPrompt chat, ResponseShape? shape, IReadOnlyList<ToolDefinition>? forced)
    {
        try { return host.ReplyConstraint(chat, shape is not null, shape?.Schema, forced); }
        catch (RequestValidationException e) { throw ApiException.BadRequest(e.Message, e.Field); }
    }

    private async Task WholeChatAsync(HttpContext context, ChatCall call, ChoiceSet choices)
    {
        var formatter = new LogprobsFormatter(host.Tokenizer!);
        var results = await CollectAll(choices, call.Arrival, context.RequestAborted, call.Chat);
        var response = new ChatResponseDto
        {
            Id = call.Id, Created = call.Created, Model = call.Model, Usage = Usage(ChoiceSet.Combine(results.Select(r => r.Usage).ToList())),
            Choices = results.Select((r, i) =>
            {
                var message = new ChatMessageOutDto { Role = "assistant", Content = r.Text };
                if (call.JsonMode is { } mode) metrics.CountJsonReply(mode, r.Text);
                string finish = Reason(r.FinishReason);
                var parser = call.Chat.CreateParser(call.SplitReasoning);
                if (parser.IsActive)
                {
                    var reply = parser.Parse(r.Text);
                    metrics.CountToolCalls(reply.Calls.Count, reply.MalformedCall);
                    message.ReasoningContent = reply.Reasoning.Length > 0 ? reply.Reasoning : null;
                    message.Content = reply.Calls.Count > 0 ? NullIfBlank(reply.Content) : reply.Content;
                    if (reply.Calls.Count > 0) (message.ToolCalls, finish) = (ToolCalls(reply.Calls.Take(call.MaxCalls), streamed: false), "tool_calls");
                }
                return new ChatChoiceDto
                {
                    Index = i, Message = message, FinishReason = finish, Logprobs = call.TopLogprobs >= 0 ? formatter.Chat(r.TokenIds, r.Logprobs) : null,
                    Cited = call.Rag is { } rag ? RagGrounding.Cited(message.Content ?? "", rag.SourceCount) : null,
                };
            }).ToList(),
            Rag = call.Rag?.Response,
        };
        await Results.Json(response, ApiJsonContext.Default.ChatResponseDto).ExecuteAsync(context);
    }

    private async Task StreamChatAsync(HttpContext context, ChatCall call, ChoiceSet choices, int count, bool includeUsage)
    {
        var formatter = new LogprobsFormatter(host.Tokenizer!);
        var sse = new SseWriter(context.Response);
        sse.Start();
        ChatResponseDto Chunk(int choice, ChatMessageOutDto delta, string? finish, GenerationUpdate? token = null) => new()
        {
            Id = call.Id, Object = "chat.completion.chunk", Created = call.Created, Model = call.Model,
            Choices = [new ChatChoiceDto
            {
                Index = choice, Delta = delta, FinishReason = finish,
                Logprobs = token is { Logprobs: { } entry } ? formatter.Chat([token.TokenId], [entry]) : null,
            }],
        };
        Task Write(ChatResponseDto chunk) => sse.WriteAsync(chunk, ApiJsonContext.Default.ChatResponseDto, context.RequestAborted);
        static ChatMessageOutDto Delta(string reasoning, string content) =>
            new() { ReasoningContent = reasoning.Length > 0 ? reasoning : null, Content = content.Length > 0 || reasoning.Length == 0 ? content : null };
        for (int i = 0; i < count; i++)
        {
            var opening = Chunk(i, new ChatMessageOutDto { Role = "assistant", Content = "" }, null);
            if (i == 0) opening.Rag = call.Rag?.Response;
            await Write(opening);
        }
        // With rag, each choice's text is kept to find the sources it cites.
        // So is a JSON reply's, to check that it parses.
        var replies = call.Rag is null && call.JsonMode is null ? null : Enumerable.Range(0, count).Select(_ => new System.Text.StringBuilder()).ToArray();
        var timers = Enumerable.Range(0, count).Select(_ => metrics.StartTokens(call.Arrival)).ToArray();
        var usages = new List<GenerationUsage>();
        // Thinking goes out as reasoning_content; text that may begin a function call is held back until the
        // choice ends, then sent as calls or as text.
        var parsers = Enumerable.Range(0, count).Select(_ => call.Chat.CreateParser(call.SplitReasoning)).ToArray();
        await foreach (var (choice, update) in choices.MergeAsync(context.RequestAborted))
        {
            if (update.TokenId >= 0) timers[choice].Token();
            var piece = parsers[choice].IsActive ? parsers[choice].Push(call.Chat.ReplyPiece(update)) : new(Reasoning: "", Content: update.Text);
            replies?[choice].Append(piece.Content);
            if (piece.Reasoning.Length > 0 || piece.Content.Length > 0 || update.Logprobs is not null)
                await Write(Chunk(choice, Delta(piece.Reasoning, piece.Content), null, update));
            if (update.Usage is not { } usage) continue;
            metrics.CountUsage(usage);
            usages.Add(usage);
            string finish = Reason(update.FinishReason);
            if (parsers[choice].IsActive)
            {
                var end = parsers[choice].Finish();
                metrics.CountToolCalls(end.Calls.Count, end.MalformedCall);
                string content = end.Calls.Count > 0 && string.IsNullOrWhiteSpace(end.Content) ? "" : end.Content;
                replies?[choice].Append(content);
                if (end.Reasoning.Length > 0 || content.Length > 0) await Write(Chunk(choice, Delta(end.Reasoning, content), null));
                if (end.Calls.Count > 0)
                {
                    await Write(Chunk(choice, new ChatMessageOutDto { ToolCalls = ToolCalls(end.Calls.Take(call.MaxCalls), streamed: true) }, null));
                    finish = "tool_calls";
                }
            }
            var closing = Chunk(choice, new ChatMessageOutDto(), finish);
            if (call.Rag is not null) closing.Choices[0].Cited = RagGrounding.Cited(replies![choice].ToString(), call.Rag.SourceCount);
            if (call.JsonMode is { } mode) metrics.CountJsonReply(mode, replies![choice].ToString());
            await Write(closing);
        }
        if (includeUsage)
            await Write(new ChatResponseDto { Id = call.Id, Object = "chat.completion.chunk", Created = call.Created, Model = call.Model, Usage = Usage(ChoiceSet.Combine(usages)) });
        await sse.DoneAsync(context.RequestAborted);
    }

    private static string? NullIfBlank(string text) => string.IsNullOrWhiteSpace(text) ? null : text;

    /// <summary>Calls as OpenAI sends them; streamed deltas number them, whole messages do not.</summary>
    private static List<ToolCallDto> ToolCalls(IEnumerable<ToolCall> calls, bool streamed) => calls.Select((call, i) => new ToolCallDto
    {
        Index = streamed ? i : null, Id = call.Id, Function = new FunctionCallDto { Name = call.Name, Arguments = call.Arguments },
    }).ToList();

    /// <summary>Choice i draws with seed + i, so n choices differ and each is reproducible alone with its seed.</summary>
    private static SamplingOptions WithChoiceSeed(SamplingOptions sampling, int choice) => sampling with { Seed = unchecked(sampling.Seed + (ulong)choice) };

    /// <summary>Every choice's whole result; for a chat whose call syntax keeps control tokens, its text with their markers.</summary>
    private Task<GenerationResult[]> CollectAll(ChoiceSet choices, long arrival, CancellationToken cancellation, ChatPrompt? chat = null) =>
        Task.WhenAll(choices.Streams.Select(stream => Collect(stream, metrics.StartTokens(arrival), cancellation, chat)));

    internal static GenerationRequest Create(InferenceEngine engine, int[] prompt, SamplingOptions sampling, int[]? stopTokens, int topLogprobs, int adapter,
        bool scorePrompt = false, Func<Dclm.Inference.Constraints.ITokenConstraint>? constraint = null)
    {
        try { return engine.CreateRequest(prompt, sampling, stopTokens, topLogprobs, scorePrompt, constraint, adapter); }
        catch (RequestValidationException e) { throw ApiException.BadRequest(e.Message, e.Field); }
    }

    private async Task<GenerationResult> Collect(GenerationStream stream, ServerMetrics.TokenTimer timer, CancellationToken cancellation, ChatPrompt? chat)
    {
        var text = chat is { KeptMarkers.Count: > 0 } ? new System.Text.StringBuilder() : null;
        var result = await stream.CollectAsync(update =>
        {
            if (update.TokenId >= 0) timer.Token();
            text?.Append(chat!.ReplyPiece(update));
        }, cancellation);
        metrics.CountUsage(result.Usage);
        return text is null ? result : result with { Text = text.ToString() };
    }

    private static UsageDto Usage(GenerationUsage usage) => new()
    {
        PromptTokens = usage.PromptTokens, CompletionTokens = usage.CompletionTokens, TotalTokens = usage.TotalTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = usage.CachedTokens },
    };

    private static string Reason(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";
}
