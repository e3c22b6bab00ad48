using Dclm.Chat;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Dclm.Server.Api;

/// <summary>
/// GET /v1/models, POST /v1/lora-adapters, POST /tokenize, /detokenize and /apply-template, GET /health, GET /metrics,
/// GET /v1/rag/indexes and the chat page at /.
/// </summary>
internal sealed class InfoEndpoints(ModelHost host, RetrievalHost retrieval, ServerOptions options, ServerMetrics metrics)
{
    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(InfoEndpoints).Assembly.GetManifestResourceStream("Dclm.Server.Web.index.html")
            ?? throw new InvalidOperationException("the chat page is missing from the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public Task ModelsAsync(HttpContext context)
    {
        var engine = ApiGuards.RequireEngine(host);
        var list = new ModelListDto { Data = host.Models.Select(m => Model(m, engine)).ToList() };
        // The embedding models follow the chat models (the served model's own embeddings answer under its id).
        foreach (var served in retrieval.Embedders)
            if (list.Data.All(m => m.Id != served.Embedder.ModelId))
                list.Data.Add(new ModelDto { Id = served.Embedder.ModelId, Created = Started, MaxModelLen = served.Embedder.MaxTokens });
        return Results.Json(list, ApiJsonContext.Default.ModelListDto).ExecuteAsync(context);
    }

    private static ModelDto Model((string Name, string? Parent, string? Path) model, InferenceEngine engine) =>
        new() { Id = model.Name, Parent = model.Parent, Root = model.Path, Created = Started, MaxModelLen = engine.ContextLength };

    /// <summary>
    /// Loads a PEFT adapter from the server's disk and serves it under its name from the next request on (vLLM's
    /// load_lora_adapter: {"lora_name", "lora_path"}); answers the new /v1/models entry. Off unless the server allows it.
    /// </summary>
    public async Task LoadAdapterAsync(HttpContext context)
    {
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.LoadAdapterRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        if (!options.AllowAdapterLoading)
            throw new ApiException(StatusCodes.Status403Forbidden, "loading adapters at run time is off; start dclm serve with --allow-lora-loading", code: "adapter_loading_disabled");
        if (string.IsNullOrEmpty(dto.LoraName)) throw ApiException.BadRequest("lora_name must name the adapter (the model name requests will use)", "lora_name");
        if (string.IsNullOrEmpty(dto.LoraPath)) throw ApiException.BadRequest("lora_path must be the adapter's directory on the server (adapter_config.json, adapter_model.safetensors)", "lora_path");
        if (host.ResolveModel(dto.LoraName) is not null)
            throw ApiException.BadRequest($"the model name '{dto.LoraName}' is already served; unload nothing, pick another name", "lora_name");
        try { host.LoadAdapter(dto.LoraName, dto.LoraPath); }
        catch (ArgumentException e) { throw ApiException.BadRequest(e.Message, "lora_name"); }
        catch (Dclm.Formats.ModelFileException e) { throw ApiException.BadRequest(e.Message, "lora_path"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { throw ApiException.BadRequest($"{dto.LoraPath}: {e.Message}", "lora_path"); }
        var added = host.Models.Single(m => m.Name == dto.LoraName);
        await Results.Json(Model(added, engine), ApiJsonContext.Default.ModelDto).ExecuteAsync(context);
    }

    /// <summary>The indexes chat completions can ground answers in ("rag": {"index": name}).</summary>
    public Task IndexesAsync(HttpContext context)
    {
        var list = new IndexListDto
        {
            Data = retrieval.Indexes.Values.OrderBy(i => i.Name, StringComparer.Ordinal).Select(i => new IndexDto
            {
                Name = i.Name, Chunks = i.Index.Chunks.Count, Files = i.Index.Manifest.Files.Count, Embedder = i.Index.Manifest.EmbedderModel,
            }).ToList(),
        };
        return Results.Json(list, ApiJsonContext.Default.IndexListDto).ExecuteAsync(context);
    }

    public async Task TokenizeAsync(HttpContext context)
    {
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.TokenizeRequestDto, options.MaxRequestBodyBytes);
        var engine = ApiGuards.RequireEngine(host);
        ApiGuards.Model(host, dto.Model);
        int[] tokens;
        if (dto.Messages is not null) tokens = ApiGuards.EncodeChat(host, RequestValidator.Messages(dto.Messages), ToolValidator.Read(dto.Tools, default).Offered).Ids;
        else
        {
            var (text, ids) = RequestValidator.Prompt(dto.Prompt, allowEmptyText: true);
            tokens = ids ?? (dto.AddSpecialTokens ? host.EncodeText(text!) : host.Tokenizer!.Encode(text!));
        }
        var response = new TokenizeResponseDto { Tokens = [.. tokens], Count = tokens.Length, MaxModelLen = engine.ContextLength };
        await Results.Json(response, ApiJsonContext.Default.TokenizeResponseDto).ExecuteAsync(context);
    }

    /// <summary>The text a chat request's messages and tools render to with the model's template (llama.cpp's /apply-template).</summary>
    public async Task ApplyTemplateAsync(HttpContext context)
    {
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.ChatRequestDto, options.MaxRequestBodyBytes);
        ApiGuards.RequireEngine(host);
        ApiGuards.Model(host, dto.Model);
        var messages = RequestValidator.Messages(dto.Messages);
        var tools = ToolValidator.Read(dto.Tools, dto.ToolChoice).Offered;
        string prompt;
        try { prompt = host.RenderChat(messages, tools); }
        catch (RequestValidationException e) { throw ApiException.BadRequest(e.Message, e.Field); }
        await Results.Json(new ApplyTemplateResponseDto { Prompt = prompt }, ApiJsonContext.Default.ApplyTemplateResponseDto).ExecuteAsync(context);
    }

    public async Task DetokenizeAsync(HttpContext context)
    {
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.DetokenizeRequestDto, options.MaxRequestBodyBytes);
        ApiGuards.RequireEngine(host);
        ApiGuards.Model(host, dto.Model);
        if (dto.Tokens is null) throw ApiException.BadRequest("tokens must be an array of token ids", "tokens");
        var tokenizer = host.Tokenizer!;
        foreach (int id in dto.Tokens)
            if ((uint)id >= (uint)tokenizer.VocabularySize) throw ApiException.BadRequest($"token id {id} is outside the vocabulary of {tokenizer.VocabularySize}", "tokens");
        var response = new DetokenizeResponseDto { Prompt = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(dto.Tokens)) };
        await Results.Json(response, ApiJsonContext.Default.DetokenizeResponseDto).ExecuteAsync(context);
    }

    public Task HealthAsync(HttpContext context)
    {
        var ready = host.Engine is not null && retrieval.IsReady;
        string? error = host.LoadError ?? retrieval.LoadError;
        var body = new HealthDto { Status = ready ? "ok" : error is null ? "loading" : "error", Error = error };
        return Results.Json(body, ApiJsonContext.Default.HealthDto, statusCode: ready ? 200 : 503).ExecuteAsync(context);
    }

    public async Task MetricsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }

    public Task PageAsync(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'";
        return context.Response.Body.WriteAsync(Page.Value).AsTask();
    }
}
