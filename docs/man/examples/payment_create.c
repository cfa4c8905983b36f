/* man: kasko_payment_create */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 1.0 create: the request is JSON the caller writes. These fields
 * are checked to need no escaping first; kasko_payment_create_v2()
 * takes them as C strings and escapes them itself. */
static int plain(const char *text)
{
  return text[0] != '\0' && strspn(text, "abcdefghijklmnopqrstuvwxyz"
      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(text);
}

int main(int argc, char **argv)
{
  char request[1024];
  char *json = NULL;
  kasko_client *client = NULL;
  kasko_result *error = NULL;
  kasko_config *cfg = kasko_config_new();
  kasko_status status;

  if (argc != 3 || !plain(argv[1]) || !plain(argv[2])) {
    fprintf(stderr, "usage: %s POLICY_ID PAYMENT_TOKEN\n", argv[0]);
    return 2;
  }
  snprintf(request, sizeof request,
           "{\"token\": \"%s\", \"provider\": \"invoice\","
           " \"method\": \"invoice\", \"policy_id\": \"%s\"}",
           argv[2], argv[1]);
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &error);
  kasko_config_free(cfg);
  if (status != KASKO_OK) {
    fprintf(stderr, "client: %s\n", kasko_result_message(error));
    kasko_result_free(error);
    return 1;
  }
  status = kasko_payment_create(client, request, &json);
  /* The payment object on KASKO_OK, else the error object, whose
   * "outcome" says whether the payment may exist anyway. */
  if (json != NULL)
    printf("%s\n", json);
  kasko_string_free(json);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
