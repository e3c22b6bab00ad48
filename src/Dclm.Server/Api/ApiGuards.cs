using Dclm.Chat;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>Checks every model-serving endpoint makes first.</summary>
internal static class ApiGuards
{
    /// <summary>The chat prompt's ids; a conversation the model's template refuses is a 400 naming why.</summary>
    public static ChatPrompt EncodeChat(ModelHost host, IReadOnlyList<ChatTurn> messages, IReadOnlyList<Dclm.Chat.Tools.ToolDefinition>? tools = null)
    {
        try { return host.EncodeChat(messages, tools); }
        catch (RequestValidationException e) { throw ApiException.BadRequest(e.Message, e.Field); }
    }

    public static InferenceEngine RequireEngine(ModelHost host) =>
        host.Engine ?? throw new ApiException(StatusCodes.Status503ServiceUnavailable,
            host.LoadError is null ? "the model is still loading; retry shortly" : $"the model failed to load: {host.LoadError}", code: "model_not_ready");

    /// <summary>
    /// The model a request names: the base (by its name, or no name) or one of the LoRA adapters served beside it, as the
    /// name the response reports and the adapter id the engine runs (0 for the base). Any other name is a 404.
    /// </summary>
    public static SelectedModel Model(ModelHost host, string? model)
    {
        if (host.ResolveModel(model) is int adapter) return new SelectedModel(string.IsNullOrEmpty(model) ? host.ModelId : model, adapter);
        var names = host.Models.Select(m => $"'{Shorten(m.Name)}'").ToList();
        string served = names.Count == 1 ? $"this server serves {names[0]}" : $"this server serves {string.Join(", ", names.Take(20))}{(names.Count > 20 ? ", ..." : "")}";
        throw new ApiException(StatusCodes.Status404NotFound, $"the model '{Shorten(model!)}' does not exist; {served}", "model", "model_not_found");
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}

/// <summary>The model a request runs on: its name as responses report it, and its adapter (0: the base).</summary>
/// <param name="Name">The name.</param>
/// <param name="Adapter">The adapter id in the engine.</param>
internal readonly record struct SelectedModel(string Name, int Adapter);
