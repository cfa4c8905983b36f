/* man: kasko_result_member_type kasko_result_member_json kasko_result_member_int64 kasko_result_member_double kasko_result_member_bool kasko_json_type */
#include <kasko.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints the top-level members named on the command line, each read
 * by its type; "_links" or "transaction_metadata" come out as JSON. */
static void print_member(const kasko_result *payment, const char *name)
{
  const char *text = NULL;
  size_t length = 0;
  int64_t whole;
  double number;
  int flag;

  printf("%s: ", name);
  switch (kasko_result_member_type(payment, name)) {
  case KASKO_JSON_BOOL:
    if (kasko_result_member_bool(payment, name, &flag) == KASKO_OK)
      printf("%s", flag ? "true" : "false");
    break;
  case KASKO_JSON_NUMBER: /* exact when it is a whole int64 */
    if (kasko_result_member_int64(payment, name, &whole) == KASKO_OK)
      printf("%" PRId64, whole);
    else if (kasko_result_member_double(payment, name, &number)
             == KASKO_OK)
      printf("%g", number);
    break;
  case KASKO_JSON_STRING:
    if (kasko_result_member_string(payment, name, &text, &length)
      == KASKO_OK)
      printf("%.*s", (int)length, text);
    break;
  case KASKO_JSON_NULL:
  case KASKO_JSON_ARRAY:
  case KASKO_JSON_OBJECT:
    if (kasko_result_member_json(payment, name, &text, &length)
      == KASKO_OK)
      printf("%.*s", (int)length, text);
    break;
  case KASKO_JSON_NONE: /* absent, or present twice */
  default:
    printf("(none)");
    break;
  }
  printf("\n");
}

int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  kasko_status status;
  int index;

  if (argc < 3) {
    fprintf(stderr, "usage: %s PAYMENT_ID MEMBER...\n", argv[0]);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &result);
  kasko_config_free(cfg);
  if (status == KASKO_OK)
    status = kasko_payment_get_v2(client, argv[1], NULL, &result);
  if (status != KASKO_OK)
    fprintf(stderr, "%s\n", kasko_result_message(result));
  else
    for (index = 2; index < argc; index++)
      print_member(result, argv[index]);
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
