/* man: kasko_policy_get kasko_policy_get_v2 kasko_result_etag kasko_result_last_modified */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Shows a policy, then reads its status and the validators an update
 * would send back (If-Match, If-Unmodified-Since). */
int main(int argc, char **argv)
{
  char config[512];
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  char *text = NULL;
  const char *state = NULL, *etag, *modified;
  kasko_status status;

  if (argc != 2) {
    fprintf(stderr, "usage: %s POLICY_ID\n", argv[0]);
    return 2;
  }
  snprintf(config, sizeof config,
           "{\"public_key\":\"%s\",\"secret_key\":\"%s\"}",
           getenv("KASKO_PUBLIC_KEY"), getenv("KASKO_SECRET_KEY"));
  if (kasko_client_new(config, &client, &text) != KASKO_OK) {
    fprintf(stderr, "%s\n", text);
    kasko_string_free(text);
    return 1;
  }
  status = kasko_policy_get(client, argv[1], &text);
  printf("%s: %s\n", kasko_status_name(status), text);
  kasko_string_free(text);

  status = kasko_policy_get_v2(client, argv[1], NULL, &result);
  if (status == KASKO_OK) {
    etag = kasko_result_etag(result);
    modified = kasko_result_last_modified(result);
    if (kasko_result_member_string(result, "status", &state, 0)
        != KASKO_OK)
      state = "(no status)";
    printf("%s: ETag %s, Last-Modified %s\n", state,
           etag ? etag : "(none)", modified ? modified : "(none)");
  } else {
    fprintf(stderr, "%s\n", kasko_result_message(result));
  }
  kasko_result_free(result); /* and with it etag and modified */
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
