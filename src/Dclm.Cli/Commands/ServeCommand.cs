using System.CommandLine;
using Dclm.Embeddings;
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
        kvType.Description += " (f32 with --device: the GPU backend keeps f32 keys and values only)";
        var cors = new Option<string[]>("--cors-origin") { Description = "allow this browser origin (repeatable; CORS is off by default)" };
        var speculation = new SpeculationOptions(serving: true);
        var threads = ModelOptions.Threads();
        var mmap = ModelOptions.Mmap();
        var noMmap = ModelOptions.NoMmap();
        var strictTemplate = ServeModel.StrictChatTemplate();
        var lora = new Option<string[]>("--lora") { Description = "serve a LoRA adapter (PEFT directory) as model NAME: NAME=PATH (repeatable; a bare PATH is named after its run)", AllowMultipleArgumentsPerToken = false };
        var allowLoading = new Option<bool>("--allow-lora-loading") { Description = "let clients load adapters from the server's disk with POST /v1/lora-adapters" };
        var embedder = new Option<string[]>("--embedder")
        {
            Description = "serve POST /v1/embeddings with \"minilm\" (all-MiniLM-L6-v2, built in), a BERT encoder's .onnx path, or \"model\" (the served model's own pooled states); repeatable, the first answers requests that name no model",
        };
        var pooling = new Option<string>("--pooling") { Description = "how --embedder model pools the decoder's final hidden states: mean or last (token)", DefaultValueFactory = _ => "mean" };
        pooling.AcceptOnlyFromAmong("mean", "last");
        var ragIndex = new Option<string[]>("--rag-index")
        {
            Description = "an index (from dclm rag index) that chat requests may ground answers in with \"rag\": {\"index\": NAME}; give NAME=PATH, or PATH for the name \"default\"; repeatable",
        };
        var driftWindow = new Option<int>("--drift-window") { Description = "requests in the output-drift alarm's moving window", DefaultValueFactory = _ => 100 };
        var driftBands = DriftOptions.Signals.Select(signal => new Option<string?>("--drift-" + signal)
        {
            Description = $"raise dclm_output_drift_alarm{{signal=\"{signal}\"}} (and log it) when the window's mean {signal} leaves LOW:HIGH",
        }).ToArray();
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (completions, chat, streaming, embeddings, grounded answers) with a chat page at /")
        {
            model, host, port, apiKey, parallel, context, queue, kvMemory, kvType, cors, threads, mmap, noMmap, strictTemplate, lora, allowLoading, embedder, pooling, ragIndex, driftWindow,
        };
        foreach (var band in driftBands) command.Options.Add(band);
        foreach (var option in speculation.Serving) command.Options.Add(option);
        var device = DeviceOptions.Device();
        command.Options.Add(device);
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(async () =>
        {
            var (lookupNgram, draftPath, draftMax) = speculation.ParseServing(parse);
            string on = parse.GetValue(device)!;
            DeviceOptions.Check(on);
            var options = new ServerOptions
            {
                ModelPath = ServeModel.Resolve(parse.GetValue(model)),
                DraftModelPath = draftPath,
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiKey = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("DCLM_API_KEY"),
                CorsOrigins = parse.GetValue(cors) ?? [],
                Threads = parse.GetValue(threads), WeightLoading = Checkpoints.WeightLoadingOptions.FromFlags(parse.GetValue(mmap), parse.GetValue(noMmap)), StrictChatTemplate = parse.GetValue(strictTemplate),
                Adapters = (parse.GetValue(lora) ?? []).Select(Chat.AdapterSource.Parse).ToArray(), AllowAdapterLoading = parse.GetValue(allowLoading),
                Device = DeviceOptions.Placement(on),
                Embedders = parse.GetValue(embedder) ?? [],
                DecoderPooling = parse.GetValue(pooling) == "last" ? EmbeddingPooling.Last : EmbeddingPooling.Mean,
                RagIndexes = RagIndexes(parse.GetValue(ragIndex) ?? []),
                Drift = new DriftOptions
                {
                    Window = parse.GetValue(driftWindow) is int window and > 0 ? window : throw new ArgumentException($"--drift-window {parse.GetValue(driftWindow)} must be positive"),
                    Bands = driftBands.Where(b => parse.GetValue(b) is not null)
                        .ToDictionary(b => b.Name["--drift-".Length..], b => DriftBand.Parse(parse.GetValue(b)!, b.Name)),
                },
                Engine = new EngineOptions
                {
                    MaxRunningSequences = parse.GetValue(parallel), ContextLength = parse.GetValue(context),
                    MaxWaitingRequests = parse.GetValue(queue), KvMemoryBytes = (long)parse.GetValue(kvMemory) << 20,
                    KvCacheType = DeviceOptions.KvType(parse, kvType, on),
                    StepTokenBudget = Math.Max(256, parse.GetValue(parallel)),
                    LookupNgram = lookupNgram, MaxDraftTokens = draftMax,
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
                if (engine.Options.LookupNgram > 0)
                    Console.Error.WriteLine($"dclm: speculative decoding by prompt lookup (n-gram {engine.Options.LookupNgram}, up to {engine.Options.MaxDraftTokens} draft tokens a step)");
                if (engine.Options.DraftModel is not null)
                    Console.Error.WriteLine($"dclm: speculative decoding with the draft model {draftPath} (up to {engine.Options.MaxDraftTokens} draft tokens a step)");
                ServeModel.ShowTemplate(server.Host);
                foreach (var (name, _, path) in server.Host.Models.Skip(1)) Console.Error.WriteLine($"dclm: adapter '{name}' from {path}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new ArgumentException($"{options.ModelPath}: {e.Message}");
            }
            try
            {
                await server.Retrieval.Loading.WaitAsync(cancellation);
                foreach (var served in server.Retrieval.Embedders)
                    Console.Error.WriteLine($"dclm: embeddings from '{served.Embedder.ModelId}' ({served.Embedder.Dimensions} dimensions, inputs up to {served.Embedder.MaxTokens} tokens) at {server.Address}v1/embeddings");
                foreach (var index in server.Retrieval.Indexes.Values)
                    Console.Error.WriteLine($"dclm: index '{index.Name}' ({index.Index.Chunks.Count} chunks of {index.Index.Manifest.Files.Count} files) for chat requests with \"rag\": {{\"index\": \"{index.Name}\"}}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new ArgumentException(e.Message);
            }
            // Ctrl+C or SIGTERM either cancels the token or stops the web host; both end the wait.
            try { await server.WaitForShutdownAsync(cancellation); }
            catch (OperationCanceledException) { }
            Console.Error.WriteLine("dclm: stopping");
            return 0;
        }));
        return command;
    }

    /// <summary>NAME=PATH or PATH (named "default") for each --rag-index; a name given twice is an error.</summary>
    internal static Dictionary<string, string> RagIndexes(IEnumerable<string> values)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            int equals = value.IndexOf('=');
            // A path may hold '=' too: only a short plain word before it is a name.
            bool named = equals > 0 && value[..equals].All(c => char.IsLetterOrDigit(c) || c is '-' or '_');
            string name = named ? value[..equals] : "default", path = named ? value[(equals + 1)..] : value;
            if (!result.TryAdd(name, path)) throw new ArgumentException($"--rag-index names the index '{name}' twice");
        }
        return result;
    }
}
