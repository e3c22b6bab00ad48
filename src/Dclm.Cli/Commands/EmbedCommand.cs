using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dclm.Embeddings;

namespace Dclm.Cli.Commands;

/// <summary>`dclm embed --text T [--text T2 ...] [--model minilm|PATH] [--json]`: one vector per text.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var text = new Option<string[]>("--text") { Description = "text to embed (repeat for several; one vector each)", Required = true, AllowMultipleArgumentsPerToken = false };
        var model = EmbedderOptions.Embedder("--model");
        var json = new Option<bool>("--json") { Description = "print {\"model\", \"dimensions\", \"data\": [{\"index\", \"embedding\"}]} instead of one line of numbers per text" };
        var command = new Command("embed", "Print the embedding vector of each text (all-MiniLM-L6-v2 by default)") { text, model, json };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var texts = parse.GetValue(text)!;
            using var embedder = EmbedderOptions.Load(parse.GetValue(model)!);
            var vectors = embedder.Embed(texts);
            if (parse.GetValue(json))
            {
                var document = new
                {
                    model = embedder.ModelId,
                    dimensions = embedder.Dimensions,
                    data = vectors.Select((v, i) => new { index = i, embedding = v }),
                };
                Console.WriteLine(JsonSerializer.Serialize(document));
            }
            else
                foreach (var vector in vectors) Console.WriteLine(string.Join(' ', vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            return 0;
        }));
        return command;
    }
}

/// <summary>The option that names an embedder, shared by embed, rag and serve.</summary>
internal static class EmbedderOptions
{
    public static Option<string> Embedder(string name) =>
        new(name) { Description = $"embedding model: \"{MiniLmPackage.Name}\" (all-MiniLM-L6-v2, built in) or the path of a BERT encoder's .onnx with its config.json and vocab.txt beside it", DefaultValueFactory = _ => MiniLmPackage.Name };

    public static ITextEmbedder Load(string name) => EmbedderLoader.Load(name);
}
