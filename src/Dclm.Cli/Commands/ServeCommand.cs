using System.CommandLine;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;

namespace Dclm.Cli.Commands;

/// <summary>`dclm serve`: the OpenAI-compatible HTTP server with continuous batching.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = ServeModel.Option();
        var host = new Option<string>("--host") { Description = "address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "port to listen on (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "require 'Authorization: Bearer KEY' (default: $DCLM_API_KEY, else open)" };
        var parallel = new Option<int>("--parallel") { Description = "sequences decoded together in one batch", DefaultValueFactory = _ => 8 };
        var context = new Option<int>("--ctx") { Description = "tokens per sequence, prompt plus output (capped at the model's context)", DefaultValueFactory = _ => 4096 };
        var queue = new Option<int>("--queue") { Description = "requests that may wait for a slot before the server answers 429", DefaultValueFactory = _ => 64 };
        var kvMemory = new Option<int>("--kv-memory-mb") { Description = "memory for the paged KV cache, in MiB", DefaultValueFactory = _ => 2048 };
        // A server batches: int8 keys and values hold ~4x the sequences and make batched attention read a quarter
        // of the bytes (like llama.cpp's server, whose default f16 cache is not exact either); --kv-type f32 is exact.
        var kvType = ModelOptions.KvType("int8");
        var cors = new Option<string[]>("--cors-origin") { Description = "allow this browser origin (repeatable; CORS is off by default)" };
        var threads = ModelOptions.Threads();
        var mmap = ModelOptions.Mmap();
        var noMmap = ModelOptions.NoMmap();
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (completions, chat, streaming) with a chat page at /")
        {
            model, host, port, apiKey, parallel, context, queue, kvMemory, kvType, cors, threads, mmap, noMmap,
        };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(async () =>
        {
            var options = new ServerOptions
            {
                ModelPath = ServeModel.Resolve(parse.GetValue(model)),
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiKey = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("DCLM_API_KEY"),
                CorsOrigins = parse.GetValue(cors) ?? [],
                Threads = parse.GetValue(threads), WeightLoading = ModelOptions.ParseLoading(parse.GetValue(mmap), parse.GetValue(noMmap)),
                Engine = new EngineOptions
                {
                    MaxRunningSequences = parse.GetValue(parallel), ContextLength = parse.GetValue(context),
                    MaxWaitingRequests = parse.GetValue(queue), KvMemoryBytes = (long)parse.GetValue(kvMemory) << 20,
                    KvCacheType = ModelOptions.ParseKvType(parse.GetValue(kvType)),
                    StepTokenBudget = Math.Max(256, parse.GetValue(parallel)),
                },
            };
            await using var server = await DclmServer.StartAsync(options, cancellation);
            Console.Error.WriteLine($"dclm: serving {options.ModelPath} as '{server.Host.ModelId}' at {server.Address} (chat page at {server.Address}, API at {server.Address}v1)");
            try
            {
                await server.Host.Loading.WaitAsync(cancellation);
                var engine = server.Host.Engine!;
                Console.Error.WriteLine($"dclm: {server.Host.Residence!.Describe()}");
                Console.Error.WriteLine($"dclm: model loaded; {engine.Options.MaxRunningSequences} parallel sequences, context {engine.ContextLength}, {engine.Options.KvBlocks} {engine.Options.KvCacheType} KV blocks of {engine.Options.BlockSize}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new ArgumentException($"{options.ModelPath}: {e.Message}");
            }
            // Ctrl+C or SIGTERM either cancels the token or stops the web host; both end the wait.
            try { await server.WaitForShutdownAsync(cancellation); }
            catch (OperationCanceledException) { }
            Console.Error.WriteLine("dclm: stopping");
            return 0;
        }));
        return command;
    }
}
