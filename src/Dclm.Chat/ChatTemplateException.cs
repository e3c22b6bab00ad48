namespace Dclm.Chat;

/// <summary>A model's chat template that cannot be used, when the host was asked to refuse rather than fall back; the message names why.</summary>
public sealed class ChatTemplateException(string message) : Exception(message);
