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

    /// <summary>A request naming a model must name the one served; an absent name means that one.</summary>
    public static void CheckModel(ModelHost host, string? model)
    {
        if (string.IsNullOrEmpty(model) || model == host.ModelId) return;
        throw new ApiException(StatusCodes.Status404NotFound, $"the model '{Shorten(model)}' does not exist; this server serves '{host.ModelId}'", "model", "model_not_found");
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
