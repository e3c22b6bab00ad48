using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class ModelOptions
{
    public static Option<string> Model(bool required = true) =>
        new("--model") { Description = "model: a Hugging Face checkpoint directory or a GGUF file", Required = required };

    public static Option<int> Threads() =>
        new("--threads") { Description = "compute threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
}
