using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>The model `serve` and `chat` use: --model, else the built-in default model.</summary>
internal static class ServeModel
{
    public static Option<string?> Option() =>
        new("--model") { Description = "model: a checkpoint directory or GGUF file (default: the built-in models/default/model.gguf)" };

    public static Option<bool> StrictChatTemplate() =>
        new("--strict-chat-template") { Description = "refuse to start when the model's chat template cannot be rendered, instead of using a built-in layout with a warning" };

    /// <summary>How the model's chats are rendered, and any warning about its chat template, on standard error.</summary>
    public static void ShowTemplate(Dclm.Chat.ModelHost host)
    {
        Console.Error.WriteLine($"dclm: chats use {host.DescribeTemplate()}");
        foreach (string warning in host.Warnings) Console.Error.WriteLine($"dclm: warning: {warning}");
    }

    public static string Resolve(string? model) =>
        !string.IsNullOrEmpty(model) ? model
        : DefaultModel.Locate() ?? throw new ArgumentException($"no --model given and the built-in model ({DefaultModel.RelativePath}) was not found; pass --model PATH, set DCLM_DEFAULT_MODEL, or train it with scripts/train-default-model.sh");
}
