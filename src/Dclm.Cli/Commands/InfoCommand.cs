using System.CommandLine;
using Dclm.Checkpoints;

namespace Dclm.Cli.Commands;

/// <summary>`dclm info --model P`: architecture, sizes, dtypes and parameter count.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model directory or GGUF file", Required = true };
        var command = new Command("info", "Print a model's architecture, sizes, dtypes and parameter count") { model };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var loaded = ModelLoader.Load(parse.GetValue(model)!, loading: WeightLoading.Mapped);
            var c = loaded.Config;
            Console.WriteLine($"path:            {loaded.Path}");
            Console.WriteLine($"format:          {loaded.Format}");
            Console.WriteLine($"architecture:    {c.Architecture}{(c.AttentionBias ? " (Q/K/V biases)" : "")}");
            Console.WriteLine($"dim:             {c.Dim}");
            Console.WriteLine($"layers:          {c.Layers}");
            Console.WriteLine($"heads:           {c.Heads} (kv {c.KeyValueHeads}, head dim {c.HeadDim})");
            Console.WriteLine($"hidden dim:      {c.HiddenDim}");
            Console.WriteLine($"vocabulary:      {c.VocabularySize}");
            Console.WriteLine($"context:         {c.ContextLength}");
            Console.WriteLine($"norm:            {c.Norm} (eps {c.NormEps:G3}){c.QueryKeyNorm switch { Models.QueryKeyNorm.FullWidth => ", qk-norm", Models.QueryKeyNorm.PerHead => ", per-head q/k RMS norm", _ => "" }}");
            Console.WriteLine($"positions:       {c.Positions}{(c.UsesRotary ? $" ({c.RopeStyle}, theta {c.RopeTheta:G})" : "")}");
            Console.WriteLine($"sliding window:  {(c.SlidingWindow > 0 ? c.SlidingWindow.ToString() : "off")}");
            Console.WriteLine($"tied embeddings: {c.TiedEmbeddings}");
            Console.WriteLine($"dtypes:          {string.Join(", ", loaded.TensorTypes.OrderBy(p => p.Key).Select(p => $"{p.Key} x{p.Value}"))}");
            Console.WriteLine($"parameters:      {loaded.ParameterCount:N0}");
            if (loaded.Tokenizer is { } tokenizer)
            {
                Console.WriteLine($"tokenizer:       {tokenizer.VocabularySize} tokens, {tokenizer.Vocabulary.ModelKind}");
                foreach (string warning in tokenizer.Vocabulary.Warnings) Console.WriteLine($"tokenizer note:  {warning}");
            }
            // What generate, serve and bench do with these weights by default, without copying them here.
            var (residence, reason) = WeightResidence.Choose(loaded.Residence.Bytes, AvailableMemory.Read(), WeightLoading.Automatic);
            Console.WriteLine($"weights:         {loaded.Residence.Bytes / 1e9:F2} GB, {(residence == Formats.FileResidence.Copied ? "copied into memory" : "mapped from the file")} by default ({reason}; --mmap / --no-mmap choose)");
            return 0;
        }));
        return command;
    }
}
