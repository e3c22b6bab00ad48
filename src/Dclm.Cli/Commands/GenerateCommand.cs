using System.CommandLine;
using Dclm.Checkpoints;
using Dclm.Inference;

namespace Dclm.Cli.Commands;

/// <summary>`dclm generate`: stream a continuation of a prompt.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var prompt = new Option<string?>("--prompt") { Description = "prompt text" };
        var promptTokens = new Option<string?>("--prompt-tokens") { Description = "prompt token ids, e.g. \"1 2 3\"" };
        var suffix = new Option<string?>("--suffix") { Description = "text after the insertion point: fill in the middle between --prompt and this, with the tokenizer's FIM tokens (llama-server's /infill layout)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens to generate", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens; 0 = off", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "nucleus sampling mass; 1 = off", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "drop tokens below min-p × the best; 0 = off", DefaultValueFactory = _ => 0.05f };
        var repetition = new Option<float>("--repeat-penalty") { Description = "penalty on recent tokens; 1 = off", DefaultValueFactory = _ => 1.0f };
        var frequency = new Option<float>("--frequency-penalty") { Description = "lower a recent token's logit by this per occurrence; 0 = off", DefaultValueFactory = _ => 0f };
        var presence = new Option<float>("--presence-penalty") { Description = "lower every recent token's logit by this once; 0 = off", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong>("--seed") { Description = "random seed; the same seed gives the same output", DefaultValueFactory = _ => 42UL };
        var stop = new Option<string[]>("--stop") { Description = "stop before this string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var mmap = ModelOptions.Mmap();
        var noMmap = ModelOptions.NoMmap();
        var printIds = new Option<bool>("--print-token-ids") { Description = "print the generated token ids, space-separated, as the last line" };
        var json = new Option<bool>("--json") { Description = "the continuation must be one JSON object (enforced while sampling)" };
        var jsonSchema = new Option<string?>("--json-schema") { Description = "the continuation must be a JSON object valid for the JSON Schema in this file (enforced while sampling)" };
        var kvType = ModelOptions.KvType("f32");
        var threads = ModelOptions.Threads();
        var lora = ModelOptions.Lora();
        var tensorParallel = ProcessGroup.TensorParallelOption();
        var speculation = new SpeculationOptions();
        var command = new Command("generate", "Generate text from a prompt, streaming it as it comes")
        {
            model, prompt, promptTokens, suffix, maxTokens, temperature, topK, topP, minP, repetition, frequency, presence, seed, stop, mmap, noMmap, printIds, json, jsonSchema, kvType, threads, lora, tensorParallel,
        };
        foreach (var option in speculation.All) command.Options.Add(option);
        var device = DeviceOptions.Device();
        command.Options.Add(device);
        command.SetAction((parse, cancellation) => ProcessGroup.RunInference(parse.GetValue(tensorParallel), group =>
        {
            string? text = parse.GetValue(prompt);
            string? ids = parse.GetValue(promptTokens);
            if ((text is null) == (ids is null)) throw new ArgumentException("give exactly one of --prompt and --prompt-tokens");
            var options = new SamplingOptions
            {
                MaxTokens = parse.GetValue(maxTokens), Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP), MinP = parse.GetValue(minP), RepetitionPenalty = parse.GetValue(repetition),
                FrequencyPenalty = parse.GetValue(frequency), PresencePenalty = parse.GetValue(presence),
                Seed = parse.GetValue(seed), StopStrings = parse.GetValue(stop) ?? [],
            };
            var schema = JsonShape(parse.GetValue(json), parse.GetValue(jsonSchema));
            using var pool = new Tensors.Compute.ComputePool(Math.Max(1, parse.GetValue(threads)));
            var loading = Checkpoints.WeightLoadingOptions.FromFlags(parse.GetValue(mmap), parse.GetValue(noMmap));
            var progress = LoadProgress.ForTerminal();
            if (group is not null && parse.GetValue(lora) is not null) throw new ArgumentException("--lora does not combine with --tensor-parallel");
            DeviceOptions.Check(parse.GetValue(device)!);
            using var loaded = ModelLoader.Load(parse.GetValue(model)!, pool, loading, progress, group);
            progress?.Clear();
            ProcessGroup.DescribeShards(loaded.Model);
            var adapters = ModelOptions.ApplyLora(loaded, parse.GetValue(lora));
            using var run = DeviceOptions.Open(loaded.Model, parse.GetValue(device), adapters);
            var tokenizer = loaded.Tokenizer;
            int[] tokens;
            string? after = parse.GetValue(suffix);
            if (after is not null)
            {
                if (text is null) throw new ArgumentException("--suffix needs --prompt (the text before the insertion point)");
                tokens = InfillTokens(loaded.RequireTokenizer(), text, after, loaded.Config.ContextLength, options.MaxTokens);
            }
            else if (text is not null)
            {
                tokens = loaded.RequireTokenizer().EncodePrompt(text);
            }
            else
            {
                tokens = TokenListParser.Parse(ids!, "--prompt-tokens");
            }

            int capacity = tokens.Length + Math.Max(0, Math.Min(options.MaxTokens, loaded.Config.ContextLength - tokens.Length));
            var speculative = speculation.Parse(parse, loaded, capacity, pool, loading, out var draftModel);
            using var ownedDraft = draftModel;
            if (group is not null && speculative is not null) throw new ArgumentException("speculative decoding does not combine with --tensor-parallel");
            // After the prompt and the draft are known to be usable, so a bad one still ends in a single error line.
            Console.Error.WriteLine($"dclm: {loaded.Residence.Describe()}");
            if (draftModel is not null) Console.Error.WriteLine($"dclm: draft model: {draftModel.Residence.Describe()}");
            Inference.Speculation.SpeculationStatistics? statistics;
            List<int> generated;
            Inference.Constraints.ITokenConstraint? constraint = null;
            if (schema is not null)
            {
                var t = loaded.RequireTokenizer();
                var table = Inference.Constraints.TokenByteTable.For(t, loaded.Config.VocabularySize);
                int[] ends = t.EndOfSequenceId is int eos ? [eos] : [];
                constraint = Inference.Constraints.JsonReplyConstraint.Factory(table, ends, schema.Program)();
            }
            var clock = new GenerationClock();
            if (tokenizer is null)
            {
                // No tokenizer: ids only (e.g. the tiny fixtures).
                var generator = new TokenGenerator(run.Model, endOfSequenceId: null, ModelOptions.ParseKvType(parse.GetValue(kvType)), speculative);
                generated = generator.Generate(tokens, options, cancellation).Select(clock.Tick).ToList();
                statistics = generator.Speculation;
            }
            else
            {
                var generator = new TextGenerator(run.Model, tokenizer, ModelOptions.ParseKvType(parse.GetValue(kvType)), speculative);
                if (text is not null) Console.Write(text);
                // An infill also ends at a FIM pad, repository or file-separator token, as llama.cpp ends it.
                int[] ends = after is null ? [] : tokenizer.FillInMiddle.EndTokens();
                foreach (var chunk in generator.Generate(tokens, options, cancellation, constraint))
                {
                    if (ends.Contains(chunk.TokenId)) break;
                    if (chunk.TokenId >= 0) clock.Tick(chunk.TokenId);
                    Console.Write(chunk.Text);
                }
                // An infill prints prefix, middle, suffix: the filled-in text in place.
                if (after is not null) Console.Write(after);
                Console.WriteLine();
                generated = generator.GeneratedTokens;
                statistics = generator.Speculation;
            }
            Console.Error.WriteLine($"dclm: {clock.Describe(tokens.Length)}");
            if (statistics is not null) Console.Error.WriteLine($"dclm: speculation: {statistics}");
            if (parse.GetValue(printIds) || tokenizer is null) Console.WriteLine(string.Join(' ', generated));
            return 0;
        }));
        return command;
    }

    /// <summary>The infill prompt of --prompt/--suffix; a tokenizer without FIM tokens is an error naming the missing ones.</summary>
    private static int[] InfillTokens(Tokenizers.Tokenizer tokenizer, string prefix, string suffix, int context, int maxTokens)
    {
        var input = new Tokenizers.InfillInput(tokenizer.Encode(prefix), tokenizer.Encode(suffix), [], []);
        try { return Tokenizers.InfillPrompt.Build(tokenizer, input, Tokenizers.InfillPrompt.DefaultBudget(context, maxTokens)); }
        catch (NotSupportedException e) { throw new ArgumentException($"--suffix: {e.Message}"); }
    }

    /// <summary>
    /// Time to the first token (the prompt's prefill and one step) and decode speed after it, llama.cpp's
    /// "eval time": (tokens − 1) / (last − first), so speculation's speed-up reads directly.
    /// </summary>
    private sealed class GenerationClock
    {
        private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();
        private long _first, _last;
        private int _count;

        public int Tick(int token)
        {
            _last = System.Diagnostics.Stopwatch.GetTimestamp();
            if (_count++ == 0) _first = _last;
            return token;
        }

        public string Describe(int promptTokens)
        {
            if (_count == 0) return $"prompt {promptTokens} tokens, nothing generated";
            double first = System.Diagnostics.Stopwatch.GetElapsedTime(_start, _first).TotalSeconds;
            double decode = System.Diagnostics.Stopwatch.GetElapsedTime(_first, _last).TotalSeconds;
            string speed = _count > 1 ? $"{(_count - 1) / decode:F2} tokens/s" : "-";
            return $"prompt {promptTokens} tokens, first token after {first:F3} s; {_count} tokens, decode {speed} after the first";
        }
    }

    private sealed record Shape(Inference.Constraints.JsonSchemaProgram? Program);

    /// <summary>--json (any object) or --json-schema FILE (compiled; a schema it cannot enforce is an error naming the file and keyword).</summary>
    private static Shape? JsonShape(bool json, string? schemaPath)
    {
        if (schemaPath is null) return json ? new Shape(null) : null;
        if (!File.Exists(schemaPath)) throw new ArgumentException($"--json-schema: {schemaPath}: no such file");
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(schemaPath));
            return new Shape(Inference.Constraints.JsonSchemaProgram.Compile(document.RootElement));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            throw new ArgumentException($"--json-schema: {schemaPath}: {e.Message}");
        }
    }
}
