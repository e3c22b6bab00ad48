using System.Diagnostics;
using Dclm.Chat;
using Dclm.Inference;
using Dclm.Server.Hosting;
using Dclm.Tokenizers;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>
/// POST /infill, llama-server's fill-in-the-middle endpoint: <c>input_prefix</c>, <c>input_suffix</c>, <c>input_extra</c>
/// files and an optional <c>prompt</c> laid out with the tokenizer's FIM tokens (<see cref="InfillPrompt"/>), answered
/// whole or streamed as server-sent events in llama-server's /completion shape.
/// </summary>
internal sealed class InfillEndpoints(ModelHost host, ServerOptions options, ServerMetrics metrics)
{
    public async Task InfillAsync(HttpContext context)
    {
        long arrival = Stopwatch.GetTimestamp();
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.InfillRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        var model = ApiGuards.Model(host, dto.Model);
        var fim = InfillRequests.RequireTokens(host.Tokenizer, "input_prefix");
        var tokenizer = host.Tokenizer!;
        if (dto.N is int n && n != 1) throw ApiException.BadRequest("/infill returns one completion; n must be 1", "n");
        var input = InfillRequests.Read(dto, tokenizer);
        // llama-server's n_predict; −1 (its default) lets generation run to the end of the context.
        int? requested = dto.NPredict ?? dto.MaxTokens;
        int[] prompt = InfillPrompt.Build(tokenizer, input, InfillRequests.Budget(engine.ContextLength, requested ?? -1));
        string field = dto.NPredict is null ? "max_tokens" : "n_predict";
        int maxTokens = RequestValidator.MaxTokens(requested is -1 ? null : requested, prompt.Length, engine.ContextLength, int.MaxValue, field);
        var sampling = RequestValidator.Sampling(dto, maxTokens);
        var request = GenerationEndpoints.Create(engine, prompt, sampling, InfillRequests.StopTokens(fim), -1, model.Adapter);
        using var choices = ChoiceSet.Submit(engine, _ => request, 1, context.RequestAborted);
        var timer = metrics.StartTokens(arrival);
        string promptText = tokenizer.Decode(prompt);

        if (!dto.Stream)
        {
            var result = await choices.Streams[0].CollectAsync(update => { if (update.TokenId >= 0) timer.Token(); }, context.RequestAborted);
            metrics.CountUsage(result.Usage);
            var whole = Final(model.Name, promptText, result.Usage, result.FinishReason, result.TokenIds, sampling);
            whole.Content = result.Text;
            whole.Tokens = result.TokenIds.ToList();
            await Results.Json(whole, ApiJsonContext.Default.InfillResponseDto).ExecuteAsync(context);
            return;
        }

        var sse = new SseWriter(context.Response);
        sse.Start();
        var generated = new List<int>();
        await foreach (var (_, update) in choices.MergeAsync(context.RequestAborted))
        {
            if (update.TokenId >= 0)
            {
                timer.Token();
                generated.Add(update.TokenId);
            }
            if (update.Usage is { } usage)
            {
                metrics.CountUsage(usage);
                var last = Final(model.Name, promptText, usage, update.FinishReason, generated, sampling);
                last.Content = update.Text;
                await sse.WriteAsync(last, ApiJsonContext.Default.InfillResponseDto, context.RequestAborted);
            }
            else if (update.Text.Length > 0 || update.TokenId >= 0)
            {
                var chunk = new InfillResponseDto { Content = update.Text, Tokens = update.TokenId >= 0 ? [update.TokenId] : [], Stop = false };
                await sse.WriteAsync(chunk, ApiJsonContext.Default.InfillResponseDto, context.RequestAborted);
            }
        }
        // llama-server ends a /completion-shaped stream with the stop: true event, not OpenAI's [DONE].
    }

    private InfillResponseDto Final(string model, string prompt, Dclm.Inference.Engine.GenerationUsage usage, FinishReason reason, IReadOnlyList<int> generated,
        SamplingOptions sampling) => new()
    {
        Stop = true, Model = model, Prompt = prompt, TokensPredicted = usage.CompletionTokens, TokensEvaluated = usage.PromptTokens,
        TokensCached = usage.CachedTokens, Truncated = false, StopType = StopType(reason, generated, sampling),
    };

    private string StopType(FinishReason reason, IReadOnlyList<int> generated, SamplingOptions sampling)
    {
        if (reason == FinishReason.Length) return "limit";
        // A stop that is not the end-of-sequence (or a FIM end) token was a stop string.
        bool endToken = generated.Count > 0 && (generated[^1] == host.Tokenizer!.EndOfSequenceId || InfillRequests.StopTokens(host.Tokenizer.FillInMiddle).Contains(generated[^1]));
        return endToken || sampling.StopStrings.Count == 0 ? "eos" : "word";
    }
}
