using System.Net;
using Dclm.Chat;
using Dclm.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dclm.Server.Hosting;

/// <summary>
/// The OpenAI-compatible HTTP server: Kestrel with minimal-API endpoints over a <see cref="ModelHost"/>.
/// It listens at once and loads the model in the background (/health answers 503 until ready).
/// </summary>
public sealed class DclmServer : IAsyncDisposable
{
    private static readonly HashSet<string> KnownEndpoints =
        ["/", "/health", "/metrics", "/v1/models", "/v1/lora-adapters", "/v1/completions", "/v1/chat/completions", "/v1/embeddings", "/v1/rag/indexes", "/tokenize", "/detokenize"];

    private readonly WebApplication _app;

    private DclmServer(WebApplication app, ModelHost host, RetrievalHost retrieval, Uri address)
    {
        _app = app;
        Host = host;
        Retrieval = retrieval;
        Address = address;
    }

    /// <summary>The model, tokenizer and engine behind the endpoints.</summary>
    public ModelHost Host { get; }
    /// <summary>The embedding models and retrieval indexes.</summary>
    public RetrievalHost Retrieval { get; }
    /// <summary>Where the server listens, e.g. http://127.0.0.1:8080/.</summary>
    public Uri Address { get; }

    /// <summary>Binds the port, starts serving and starts loading the model.</summary>
    public static async Task<DclmServer> StartAsync(ServerOptions options, CancellationToken cancellation = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            var address = options.Host switch
            {
                "localhost" => IPAddress.Loopback,
                "*" or "0.0.0.0" => IPAddress.Any,
                _ => IPAddress.TryParse(options.Host, out var parsed) ? parsed : throw new ArgumentException($"--host '{options.Host}' is not an IP address (use 127.0.0.1, 0.0.0.0 or ::1)"),
            };
            kestrel.Listen(address, options.Port, listen => listen.Use(KestrelErrorBodies.Middleware));
        });
        if (options.CorsOrigins.Count > 0)
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy.WithOrigins([.. options.CorsOrigins]).AllowAnyHeader().AllowAnyMethod()));

        var host = new ModelHost(options);
        var retrieval = new RetrievalHost(options, host);
        var app = builder.Build();
        var metrics = new ServerMetrics(() => host.Engine, options.Drift, message => app.Logger.LogWarning("{Drift}", message));
        // A chat template the engine cannot render is replaced by a built-in layout: never silently.
        _ = host.Loading.ContinueWith(loaded =>
        {
            foreach (string warning in host.Warnings) app.Logger.LogWarning("{Warning}", warning);
        }, TaskContinuationOptions.OnlyOnRanToCompletion);
        Configure(app, options, host, retrieval, metrics);
        try
        {
            await app.StartAsync(cancellation);
        }
        catch
        {
            retrieval.Dispose();
            host.Dispose();
            throw;
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DclmServer(app, host, retrieval, new Uri(bound.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]") + "/"));
    }

    private static void Configure(WebApplication app, ServerOptions options, ModelHost host, RetrievalHost retrieval, ServerMetrics metrics)
    {
        var keyCheck = options.ApiKey is { Length: > 0 } key ? new ApiKeyCheck(key) : null;
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (ApiException e)
            {
                await e.WriteAsync(context);
            }
            catch (BadHttpRequestException e)
            {
                await ApiException.WriteAsync(context, e.StatusCode, $"bad request: {e.Message}", "invalid_request_error", null, null);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away; its sequence was cancelled with it.
            }
            catch (Dclm.Tokenizers.PreTokenizerTimeoutException e)
            {
                await ApiException.WriteAsync(context, StatusCodes.Status400BadRequest, $"the text could not be tokenized in time: {e.Problem}", "invalid_request_error", null, "tokenizer_timeout");
            }
            catch (Dclm.Inference.Engine.EngineBusyException e)
            {
                await ApiException.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"the server is stopping: {e.Message}", "server_error", null, "unavailable");
            }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                await ApiException.WriteAsync(context, StatusCodes.Status500InternalServerError, $"internal error: {e.Message}", "server_error", null, null);
            }
            string path = context.Request.Path.Value ?? "";
            metrics.CountRequest(KnownEndpoints.Contains(path) ? path : "other", context.Response.StatusCode);
        });
        if (options.CorsOrigins.Count > 0) app.UseCors();
        if (keyCheck is not null)
        {
            app.Use(async (context, next) =>
            {
                string path = context.Request.Path.Value ?? "";
                bool open = path is "/" or "/health" || HttpMethods.IsOptions(context.Request.Method);
                if (!open && !keyCheck.Accepts(context.Request.Headers.Authorization))
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await ApiException.WriteAsync(context, StatusCodes.Status401Unauthorized, "a valid API key is required: send 'Authorization: Bearer <key>'", "authentication_error", null, "invalid_api_key");
                    return;
                }
                await next(context);
            });
        }

        var generation = new GenerationEndpoints(host, retrieval, options, metrics);
        var infill = new InfillEndpoints(host, options, metrics);
        var info = new InfoEndpoints(host, retrieval, options, metrics);
        var embeddings = new EmbeddingEndpoints(retrieval, options);
        app.MapPost("/v1/completions", generation.CompletionsAsync);
        app.MapPost("/infill", infill.InfillAsync);
        app.MapPost("/v1/chat/completions", generation.ChatAsync);
        app.MapPost("/v1/embeddings", embeddings.EmbeddingsAsync);
        app.MapGet("/v1/rag/indexes", info.IndexesAsync);
        app.MapGet("/v1/models", info.ModelsAsync);
        app.MapPost("/v1/lora-adapters", info.LoadAdapterAsync);
        app.MapPost("/tokenize", info.TokenizeAsync);
        app.MapPost("/detokenize", info.DetokenizeAsync);
        app.MapPost("/apply-template", info.ApplyTemplateAsync);
        app.MapGet("/health", info.HealthAsync);
        app.MapGet("/metrics", info.MetricsAsync);
        app.MapGet("/", info.PageAsync);
        app.MapFallback(context => ApiException.WriteAsync(context, StatusCodes.Status404NotFound,
            $"no endpoint {context.Request.Method} {Shorten(context.Request.Path.Value)}", "not_found_error", null, "not_found"));
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 100 ? text : text[..100] + "…";

    /// <summary>Completes when the server stops (Ctrl+C or <see cref="DisposeAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellation);

    /// <summary>Stops listening, then stops the engine and releases the model.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Retrieval.Dispose();
        Host.Dispose();
    }
}
