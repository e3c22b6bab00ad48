using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class ModelOptions
{
    public static Option<string> Model(bool required = true) =>
        new("--model") { Description = "model: a Hugging Face checkpoint directory or a GGUF file" + (required ? $" (default: the built-in {DefaultModel.RelativePath})" : ""), Required = required && DefaultModel.Locate() is null, DefaultValueFactory = required && DefaultModel.Locate() is string builtIn ? _ => builtIn : null };

    public static Option<int> Threads() =>
        new("--threads") { Description = "compute threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
}
