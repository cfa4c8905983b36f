/* man: kasko_version kasko_version_number */
#include <kasko.h>
#include <stdio.h>

/* At start-up: is the library at least as new as the header this
 * program was compiled against? An older one may lack functions the
 * header declares. */
int main(void)
{
  if (kasko_version_number() < KASKO_VERSION_NUMBER) {
    fprintf(stderr, "libkasko %s is older than its header (%s)\n",
            kasko_version(), KASKO_VERSION);
    return 1;
  }
  printf("libkasko %s (compiled against %s)\n", kasko_version(),
         KASKO_VERSION);
  return 0;
}
