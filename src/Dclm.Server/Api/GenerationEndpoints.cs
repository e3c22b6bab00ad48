using System.Diagnostics;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>POST /v1/completions and /v1/chat/completions, whole or streamed.</summary>
internal sealed class GenerationEndpoints(ModelHost host, ServerOptions options, ServerMetrics metrics)
{
    /// <summary>OpenAI's default budget for /v1/completions when max_tokens is absent.</summary>
    private const int DefaultCompletionTokens = 16;

    public async Task CompletionsAsync(HttpContext context)
    {
        long arrival = Stopwatch.GetTimestamp();
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.CompletionRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        ApiGuards.CheckModel(host, dto.Model);
        var (text, tokens) = RequestValidator.Prompt(dto.Prompt);
        int[] prompt = tokens ?? host.EncodeText(text!);
        int maxTokens = RequestValidator.MaxTokens(dto.MaxTokens, prompt.Length, engine.ContextLength, DefaultCompletionTokens);
        var request = Create(engine, prompt, RequestValidator.Sampling(dto, maxTokens), null);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string echo = dto.Echo ? text ?? host.Tokenizer!.Decode(prompt) : "";
        var stream = Submit(engine, request, context);
        var timer = metrics.StartTokens(arrival);

        if (!dto.Stream)
        {
            var result = await Collect(stream, timer, context.RequestAborted);
            var response = new CompletionResponseDto
            {
                Id = id, Created = created, Model = host.ModelId, Usage = Usage(result.Usage),
                Choices = [new CompletionChoiceDto { Text = echo + result.Text, FinishReason = Reason(result.FinishReason) }],
            };
            await Results.Json(response, ApiJsonContext.Default.CompletionResponseDto).ExecuteAsync(context);
            return;
        }

        var sse = new SseWriter(context.Response);
        sse.Start();
        CompletionResponseDto Chunk(string piece, string? finish) => new()
        {
            Id = id, Created = created, Model = host.ModelId,
            Choices = [new CompletionChoiceDto { Text = piece, FinishReason = finish }],
        };
        if (echo.Length > 0) await sse.WriteAsync(Chunk(echo, null), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
        await foreach (var update in stream.WithCancellation(context.RequestAborted))
        {
            if (update.TokenId >= 0) timer.Token();
            if (update.Usage is { } usage)
            {
                metrics.CountUsage(usage);
                await sse.WriteAsync(Chunk(update.Text, Reason(update.FinishReason)), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
                if (dto.StreamOptions?.IncludeUsage == true)
                    await sse.WriteAsync(new CompletionResponseDto { Id = id, Created = created, Model = host.ModelId, Usage = Usage(usage) }, ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
            }
            else if (update.Text.Length > 0)
            {
                await sse.WriteAsync(Chunk(update.Text, null), ApiJsonContext.Default.CompletionResponseDto, context.RequestAborted);
            }
        }
        await sse.DoneAsync(context.RequestAborted);
    }

    public async Task ChatAsync(HttpContext context)
    {
        long arrival = Stopwatch.GetTimestamp();
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.ChatRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        ApiGuards.CheckModel(host, dto.Model);
        var messages = RequestValidator.Messages(dto.Messages);
        var (prompt, stopTokens) = host.EncodeChat(messages);
        string field = dto.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens";
        int maxTokens = RequestValidator.MaxTokens(dto.MaxCompletionTokens ?? dto.MaxTokens, prompt.Length, engine.ContextLength, int.MaxValue, field);
        var sampling = RequestValidator.Sampling(dto, maxTokens);
        sampling = sampling with { StopStrings = [.. sampling.StopStrings, .. host.Template.StopStrings] };
        var request = Create(engine, prompt, sampling, stopTokens);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var stream = Submit(engine, request, context);
        var timer = metrics.StartTokens(arrival);

        if (!dto.Stream)
        {
            var result = await Collect(stream, timer, context.RequestAborted);
            var response = new ChatResponseDto
            {
                Id = id, Created = created, Model = host.ModelId, Usage = Usage(result.Usage),
                Choices = [new ChatChoiceDto { Message = new ChatMessageOutDto { Role = "assistant", Content = result.Text }, FinishReason = Reason(result.FinishReason) }],
            };
            await Results.Json(response, ApiJsonContext.Default.ChatResponseDto).ExecuteAsync(context);
            return;
        }

        var sse = new SseWriter(context.Response);
        sse.Start();
        ChatResponseDto Chunk(ChatMessageOutDto delta, string? finish) => new()
        {
            Id = id, Object = "chat.completion.chunk", Created = created, Model = host.ModelId,
            Choices = [new ChatChoiceDto { Delta = delta, FinishReason = finish }],
        };
        await sse.WriteAsync(Chunk(new ChatMessageOutDto { Role = "assistant", Content = "" }, null), ApiJsonContext.Default.ChatResponseDto, context.RequestAborted);
        await foreach (var update in stream.WithCancellation(context.RequestAborted))
        {
            if (update.TokenId >= 0) timer.Token();
            if (update.Text.Length > 0)
                await sse.WriteAsync(Chunk(new ChatMessageOutDto { Content = update.Text }, null), ApiJsonContext.Default.ChatResponseDto, context.RequestAborted);
            if (update.Usage is not { } usage) continue;
            metrics.CountUsage(usage);
            await sse.WriteAsync(Chunk(new ChatMessageOutDto(), Reason(update.FinishReason)), ApiJsonContext.Default.ChatResponseDto, context.RequestAborted);
            if (dto.StreamOptions?.IncludeUsage == true)
                await sse.WriteAsync(new ChatResponseDto { Id = id, Object = "chat.completion.chunk", Created = created, Model = host.ModelId, Usage = Usage(usage) }, ApiJsonContext.Default.ChatResponseDto, context.RequestAborted);
        }
        await sse.DoneAsync(context.RequestAborted);
    }

    private static GenerationRequest Create(InferenceEngine engine, int[] prompt, SamplingOptions sampling, int[]? stopTokens)
    {
        try { return engine.CreateRequest(prompt, sampling, stopTokens); }
        catch (RequestValidationException e) { throw ApiException.BadRequest(e.Message, e.Field); }
    }

    private static GenerationStream Submit(InferenceEngine engine, GenerationRequest request, HttpContext context)
    {
        try { return engine.Submit(request, context.RequestAborted); }
        catch (EngineBusyException e) { throw new ApiException(StatusCodes.Status429TooManyRequests, $"the server is busy: {e.Message}; retry later", code: "queue_full"); }
    }

    private async Task<GenerationResult> Collect(GenerationStream stream, ServerMetrics.TokenTimer timer, CancellationToken cancellation)
    {
        var text = new System.Text.StringBuilder();
        var tokens = new List<int>();
        await foreach (var update in stream.WithCancellation(cancellation))
        {
            if (update.TokenId >= 0) { timer.Token(); tokens.Add(update.TokenId); }
            text.Append(update.Text);
            if (update.Usage is { } usage)
            {
                metrics.CountUsage(usage);
                return new GenerationResult(text.ToString(), tokens, update.FinishReason, usage);
            }
        }
        throw new InvalidOperationException("the generation ended without a final update");
    }

    private static UsageDto Usage(GenerationUsage usage) => new()
    {
        PromptTokens = usage.PromptTokens, CompletionTokens = usage.CompletionTokens, TotalTokens = usage.TotalTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = usage.CachedTokens },
    };

    private static string Reason(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";
}
